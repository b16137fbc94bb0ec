package io.jfrebpf.agent.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The three tables of the running JVM, read directly from libjvm's data. */
class VmStructsTest {
    private final VmStructs vm = VmStructs.load().orElseThrow(() -> new AssertionError("VMStructs of this JVM not readable"));

    @Test
    void readsFieldsStaticsSizesAndConstants() {
        long constMethod = vm.requireField("Method", "_constMethod");
        assertTrue(constMethod > 0 && constMethod < vm.requireSize("Method"), "Method::_constMethod inside Method");
        assertTrue(vm.requireStatic("CodeCache", "_heaps") != 0, "CodeCache::_heaps has an address");
        assertEquals(8, vm.requireSize("address"), "sizeof(address) on a 64-bit JVM");
        assertEquals(-1, vm.requireConstant("InvocationEntryBci"));
    }

    @Test
    void namesWhatTheTableLacks() {
        assertTrue(vm.fieldOffset("JavaThread", "_jfr_ebpf_no_such_field").isEmpty());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> vm.requireSize("JfrEbpfNoSuchType"));
        assertTrue(e.getMessage().contains("sizeof(JfrEbpfNoSuchType)"), e.getMessage());
    }
}
