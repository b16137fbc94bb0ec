package io.jfrebpf.agent.it;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Native memory programs the malloc tests run under the agent, calling libc through FFM downcalls. */
final class NativeWorkloads {
    private NativeWorkloads() {
    }

    static final Linker LINKER = Linker.nativeLinker();
    static final MethodHandle MALLOC = libc("malloc", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    static final MethodHandle CALLOC = libc("calloc",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    static final MethodHandle REALLOC = libc("realloc",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    static final MethodHandle FREE = libc("free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

    static MemorySegment malloc(long size) {
        try {
            return (MemorySegment) MALLOC.invokeExact(size);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static MemorySegment calloc(long n, long size) {
        try {
            return (MemorySegment) CALLOC.invokeExact(n, size);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static MemorySegment realloc(MemorySegment p, long size) {
        try {
            return (MemorySegment) REALLOC.invokeExact(p, size);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void free(MemorySegment p) {
        try {
            FREE.invokeExact(p);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MethodHandle libc(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), d);
    }

    /**
     * On thread "native-leaker": {@code leaks} blocks of {@code size} bytes malloc'ed and never
     * freed (leakNative); {@code pairs} malloc(64)/free pairs (smallPairs); one calloc(1000, 1024)
     * never freed (callocBlock); a realloc chain from 1 KiB doubling to 1 MiB, the last block
     * never freed (reallocChain). Then waits {@code waitMs} so that all of it is old enough.
     */
    static final class Leaks {
        public static void main(String[] args) throws Exception {
            int leaks = Integer.parseInt(args[0]);
            long size = Long.parseLong(args[1]);
            int pairs = Integer.parseInt(args[2]);
            long waitMs = Long.parseLong(args[3]);
            Workloads.onThread("native-leaker", () -> {
                System.out.println("leaker tid=" + Workloads.gettid());
                leakNative(leaks, size);
                smallPairs(pairs);
                callocBlock();
                reallocChain();
            });
            System.out.println("done");
            Thread.sleep(waitMs);
        }

        static void leakNative(int n, long size) {
            for (int i = 0; i < n; i++) {
                MemorySegment p = malloc(size);
                if (p.address() == 0) {
                    throw new OutOfMemoryError("malloc(" + size + ")");
                }
            }
        }

        static void smallPairs(int n) {
            for (int i = 0; i < n; i++) {
                free(malloc(64));
            }
        }

        static void callocBlock() {
            MemorySegment p = calloc(1000, 1024);
            if (p.address() == 0) {
                throw new OutOfMemoryError("calloc");
            }
        }

        static void reallocChain() {
            MemorySegment p = malloc(1024);
            for (long size = 2048; size <= 1 << 20; size *= 2) {
                p = realloc(p, size);
                if (p.address() == 0) {
                    throw new OutOfMemoryError("realloc");
                }
            }
        }
    }

    /**
     * On thread "native-leaker": {@code n} blocks of 1 MiB never freed (leakNative), a pause of
     * {@code pauseMs}, then {@code n} more (leakLater).
     */
    static final class LeaksTwice {
        public static void main(String[] args) throws Exception {
            int n = Integer.parseInt(args[0]);
            long pauseMs = Long.parseLong(args[1]);
            Workloads.onThread("native-leaker", () -> {
                Leaks.leakNative(n, 1 << 20);
                System.out.println("first leaks done");
                Thread.sleep(pauseMs);
                leakLater(n);
                System.out.println("second leaks done");
            });
        }

        static void leakLater(int n) {
            Leaks.leakNative(n, 1 << 20);
        }
    }
}
