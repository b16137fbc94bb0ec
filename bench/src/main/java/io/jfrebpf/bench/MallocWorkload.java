package io.jfrebpf.bench;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The malloc-heavy loop of the malloc benchmark: one thread calls libc's malloc(size) and free()
 * through FFM downcalls as fast as it can, for the given seconds after a 1-second warm-up.
 * Prints {@code ns/pair=N}. Usage: {@code MallocWorkload seconds [size]}.
 */
public final class MallocWorkload {
    static final Linker LINKER = Linker.nativeLinker();
    static final MethodHandle MALLOC = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("malloc"),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    static final MethodHandle FREE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("free"),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

    public static void main(String[] args) throws Throwable {
        double seconds = Double.parseDouble(args[0]);
        long size = args.length > 1 ? Long.parseLong(args[1]) : 64;
        loop(size, 1.0);
        long start = System.nanoTime();
        long pairs = loop(size, seconds);
        double ns = (System.nanoTime() - start) / (double) pairs;
        System.out.printf("ns/pair=%.1f pairs=%d%n", ns, pairs);
    }

    static long loop(long size, double seconds) throws Throwable {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long pairs = 0;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 100; i++) {
                MemorySegment p = (MemorySegment) MALLOC.invokeExact(size);
                FREE.invokeExact(p);
            }
            pairs += 100;
        }
        return pairs;
    }
}
