package io.jfrebpf.agent.os;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** The kernel's id of the calling thread ({@code gettid(2)}), which Java does not expose. */
public final class Tid {
    private static final MethodHandle GETTID = Linker.nativeLinker().defaultLookup().find("gettid")
            .map(a -> Linker.nativeLinker().downcallHandle(a, FunctionDescriptor.of(ValueLayout.JAVA_INT)))
            .orElse(null);

    private Tid() {
    }

    /** The caller's tid, or 0 if libc has no gettid (glibc before 2.30). */
    public static int current() {
        if (GETTID == null) {
            return 0;
        }
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable e) {
            return 0;
        }
    }
}
