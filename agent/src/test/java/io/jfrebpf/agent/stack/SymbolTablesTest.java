package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kernel symbols from a kallsyms text, and readable C++ names. */
class SymbolTablesTest {
    @Test
    void kallsymsTextSymbolsByAddress(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("kallsyms"), """
                ffffffff81000000 T _stext
                ffffffff81001000 t do_one_initcall
                ffffffff81002000 D some_data
                ffffffff81003000 T do_sys_openat2
                ffffffffc0001000 t helper\t[somemodule]
                0000000000000000 T hidden
                not a line
                """);
        KernelSymbols k = KernelSymbols.load(f);
        assertEquals(4, k.size());
        assertEquals("do_one_initcall", k.symbol(0xffffffff81001800L));
        assertEquals("do_one_initcall", k.symbol(0xffffffff81002800L)); // data is not a function: the text before it
        assertEquals("do_sys_openat2", k.symbol(0xffffffff81003004L));
        assertEquals("helper", k.symbol(0xffffffffc0001010L));
        assertNull(k.symbol(0x1000L));
    }

    @Test
    void kallsymsOutOfOrderIsSorted(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("kallsyms"), """
                ffffffffc0001000 t helper	[somemodule]
                ffffffff81003000 T do_sys_openat2
                ffffffff81001000 t do_one_initcall
                """);
        KernelSymbols k = KernelSymbols.load(f);
        assertEquals("do_one_initcall", k.symbol(0xffffffff81001800L));
        assertEquals("do_sys_openat2", k.symbol(0xffffffff81003004L));
        assertEquals("helper", k.symbol(0xffffffffc0001010L));
    }

    @Test
    void kallsymsWithoutAddressesResolvesNothing(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("kallsyms"), "0000000000000000 T _stext\n0000000000000000 T do_sys_openat2\n");
        assertEquals(0, KernelSymbols.load(f).size());
        assertNull(KernelSymbols.load(f).symbol(0xffffffff81003004L));
    }

    @Test
    void cppNamesWithoutParameters() {
        assertEquals("JavaThread::run", Demangler.demangle("_ZN10JavaThread3runEv"));
        assertEquals("JavaCalls::call_helper", Demangler.demangle("_ZN9JavaCalls11call_helperEP9JavaValueRK12methodHandleP17JavaCallArgumentsP10JavaThread"));
        assertEquals("thread_native_entry", Demangler.demangle("_ZL19thread_native_entryP6Thread"));
        assertEquals("jni_invoke_static", Demangler.demangle("_ZL17jni_invoke_staticP7JNIEnv_P9JavaValueP8_jobject11JNICallTypeP10_jmethodIDP18JNI_ArgumentPusherP10JavaThread.constprop.1"));
        assertEquals("Mutex::lock", Demangler.demangle("_ZN5Mutex4lockEv"));
        assertEquals("GrowableArray::grow", Demangler.demangle("_ZN13GrowableArrayIiE4growEi"));
        assertEquals("Foo::Foo", Demangler.demangle("_ZN3FooC2Ev"));
        assertEquals("Foo::~Foo", Demangler.demangle("_ZN3FooD1Ev"));
        assertEquals("std::foo", Demangler.demangle("_ZNSt3fooEv"));
        assertEquals("open64", Demangler.demangle("open64"));
        assertEquals("_Zgarbage", Demangler.demangle("_Zgarbage"));
        assertEquals("_ZN3", Demangler.demangle("_ZN3"));
    }
}
