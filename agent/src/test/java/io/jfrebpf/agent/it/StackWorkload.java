package io.jfrebpf.agent.it;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the stack tests look for, one thread each, for about two seconds:
 * "interp" runs {@link #interpretedOnly} (excluded from compilation by the test's flags), "hot"
 * runs {@link #outer} → {@link #middle} (inlined) → {@link #leaf} (not inlined), "sleeper" sleeps
 * in {@link #sleepingMethod} 10 × 100 ms, "ffm" opens a file through an FFM downcall to libc's
 * open in {@link #ffmOpen}, "opener" opens a file in a loop in {@link #kernelOpens} (time in the
 * kernel), "deep" tries to open a missing file 200 calls deep in {@link #deep} (a stack longer
 * than the kernel keeps). Argument: the file to open.
 *
 * <p>Before those threads start, {@link #outer} runs until it is compiled (with {@link #middle}
 * inlined into it by the test's flags), at most {@link #COMPILE_WAIT_NS}: on two CPUs busy with
 * these threads the compile queue could otherwise leave outer interpreted for the whole run
 * while middle got compiled on its own, and "hot" would never run the shape the test looks for.
 */
public final class StackWorkload {
    static final long RUN_NS = 2_000_000_000L;
    static final long COMPILE_WAIT_NS = 20_000_000_000L;
    static volatile long sink;

    private StackWorkload() {
    }

    static long interpretedOnly(int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += i % 7;
        }
        return s;
    }

    static long leaf(long x) {
        long s = x;
        for (int i = 0; i < 200; i++) {
            s = s * 31 + i;
        }
        return s;
    }

    static long middle(long x) {
        return leaf(x) + 1;
    }

    static long outer(int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += middle(i);
        }
        return s;
    }

    /** Runs outer until HotSpot's code list holds compiled code of it in use, or COMPILE_WAIT_NS passed; says which. */
    static void compileOuter() {
        String outer = StackWorkload.class.getName() + ".outer(I)J";
        long end = System.nanoTime() + COMPILE_WAIT_NS;
        while (!Workloads.compiled(outer)) {
            if (System.nanoTime() > end) {
                System.out.println("outer not compiled after " + COMPILE_WAIT_NS / 1_000_000_000L + " s");
                return;
            }
            for (int i = 0; i < 200; i++) {
                sink += outer(1000);
            }
        }
        System.out.println("outer compiled");
    }

    static void sleepingMethod() throws InterruptedException {
        for (int i = 0; i < 10; i++) {
            Thread.sleep(100);
        }
    }

    static void ffmOpen(Path file, int times) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle open = linker.downcallHandle(linker.defaultLookup().findOrThrow("open"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle close = linker.downcallHandle(linker.defaultLookup().findOrThrow("close"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            var path = arena.allocateFrom(file.toString());
            for (int i = 0; i < times; i++) {
                int fd = (int) open.invokeExact(path, 0);
                if (fd < 0) {
                    throw new IllegalStateException("open failed");
                }
                int rc = (int) close.invokeExact(fd);
            }
        }
    }

    static void deep(int depth, Path missing) {
        if (depth > 0) {
            deep(depth - 1, missing);
            return;
        }
        try (var in = new java.io.FileInputStream(missing.toFile())) {
            sink += in.read();
        } catch (java.io.IOException expected) {
            sink++;
        }
    }

    static void kernelOpens(Path file) throws Exception {
        long end = System.nanoTime() + RUN_NS;
        while (System.nanoTime() < end) {
            sink += Files.readAllBytes(file).length;
        }
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        compileOuter();
        // first, alone: the flood of opens below must not crowd these out of the ring buffer; the
        // thread lives on until the end, so that its events find their Java thread live
        Thread ffm = new Thread(() -> {
            try {
                ffmOpen(file, 20);
                Thread.sleep(RUN_NS / 1_000_000 + 500);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }, "ffm");
        ffm.start();
        Thread deep = new Thread(() -> {
            deep(200, Path.of(file + ".deep"));
            try {
                Thread.sleep(RUN_NS / 1_000_000 + 500);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "deep");
        deep.start();
        Thread.sleep(300);
        Thread[] threads = {
            new Thread(() -> {
                long end = System.nanoTime() + RUN_NS;
                while (System.nanoTime() < end) {
                    sink += interpretedOnly(10_000);
                }
            }, "interp"),
            new Thread(() -> {
                long end = System.nanoTime() + RUN_NS;
                while (System.nanoTime() < end) {
                    sink += outer(1000);
                }
            }, "hot"),
            new Thread(() -> {
                try {
                    System.out.println("sleeper tid=" + Workloads.gettid());
                    sleepingMethod();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, "sleeper"),
            new Thread(() -> {
                try {
                    kernelOpens(file);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "opener"),
        };
        for (Thread t : threads) {
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        ffm.join();
        deep.join();
        System.out.println("done");
    }
}
