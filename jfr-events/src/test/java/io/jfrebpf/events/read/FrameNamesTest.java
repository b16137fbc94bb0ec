package io.jfrebpf.events.read;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** One rule for a frame's name, spelt for the flame graph and for Pyroscope. */
class FrameNamesTest {
    @Test
    void kernelAndNativeFramesAreTheirSymbolInBoth() {
        for (boolean pprof : new boolean[] {false, true}) {
            assertEquals("do_sys_openat2_[k]", name(pprof, FrameTypes.KERNEL, "kernel", "do_sys_openat2"));
            assertEquals("__open64", name(pprof, FrameTypes.NATIVE, "libc.so.6", "__open64"));
            assertEquals("[unknown]", name(pprof, FrameTypes.NATIVE, "libc.so.6", null));
            assertEquals("[unknown]_[k]", name(pprof, FrameTypes.KERNEL, "kernel", ""));
        }
    }

    @Test
    void theFlameGraphKeepsTheBinaryNameAndHowTheFrameRan() {
        assertEquals("com.example.Shop.checkout_[j]", FrameNames.flameGraph(FrameTypes.JIT_COMPILED, "com.example.Shop", "checkout"));
        assertEquals("com.example.Shop.checkout_[0]", FrameNames.flameGraph(FrameTypes.INTERPRETED, "com.example.Shop", "checkout"));
        assertEquals("com.example.Shop.checkout_[i]", FrameNames.flameGraph(FrameTypes.INLINED, "com.example.Shop", "checkout"));
        assertEquals("com.example.Shop.checkout_[1]", FrameNames.flameGraph(FrameTypes.C1_COMPILED, "com.example.Shop", "checkout"));
        assertEquals("com.example.Shop$$Lambda/0x0000000800c0b8c0.run_[j]",
                FrameNames.flameGraph(FrameTypes.JIT_COMPILED, "com.example.Shop$$Lambda/0x0000000800c0b8c0", "run"));
        assertEquals("[unknown]_[j]", FrameNames.flameGraph(FrameTypes.JIT_COMPILED, null, null));
    }

    @Test
    void pyroscopeGetsInternalNamesWithGeneratedPartsMergedAndNoSuffix() {
        assertEquals("java/lang/Thread.run", FrameNames.pprof(FrameTypes.JIT_COMPILED, "java.lang.Thread", "run"));
        assertEquals("java/lang/Thread.run", FrameNames.pprof(FrameTypes.INTERPRETED, "java.lang.Thread", "run"));
        assertEquals("com/example/Shop$$Lambda_.run",
                FrameNames.pprof(FrameTypes.JIT_COMPILED, "com.example.Shop$$Lambda/0x0000000800c0b8c0", "run"));
        assertEquals("com/example/Shop$$Lambda_.run", FrameNames.pprof(FrameTypes.JIT_COMPILED, "com.example.Shop$$Lambda$14/0x1f", "run"));
        assertEquals("jdk/internal/reflect/GeneratedMethodAccessor_.invoke",
                FrameNames.pprof(FrameTypes.JIT_COMPILED, "jdk.internal.reflect.GeneratedMethodAccessor31", "invoke"));
        assertEquals("com/example/Shop$$EnhancerBySpringCGLIB$$_.checkout",
                FrameNames.pprof(FrameTypes.JIT_COMPILED, "com.example.Shop$$EnhancerBySpringCGLIB$$5ab3d0c1", "checkout"));
        assertEquals("checkout", FrameNames.pprof(FrameTypes.JIT_COMPILED, "", "checkout"), "no class: the method alone");
    }

    private static String name(boolean pprof, String type, String cls, String method) {
        return pprof ? FrameNames.pprof(type, cls, method) : FrameNames.flameGraph(type, cls, method);
    }
}
