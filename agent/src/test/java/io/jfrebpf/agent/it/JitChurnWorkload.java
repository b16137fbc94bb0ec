package io.jfrebpf.agent.it;

import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassTransform;
import java.lang.constant.ClassDesc;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiled code that is freed and replaced all the time: threads "churn-0".."churn-N" each define,
 * round after round, a hidden class of its own name ({@code JitChurnT<thread>R<round>}, from
 * {@link ChurnedWorker}'s bytes), call its method until the JIT has compiled it, and drop it; a GC
 * every few rounds unloads the classes and frees their code, whose space the next compilations
 * take. A thread's samples can only be in its own classes, so a frame of thread churn-1 named
 * with a class of churn-2 is a frame named by the code that came after the sampled code. A
 * "steady" thread (steadyEntry -> steadyLoop -> steadyLeaf) runs code that is never freed, beside.
 * Arguments: how many milliseconds to run, how many churning threads.
 */
public final class JitChurnWorkload {
    static final String PREFIX = "JitChurnT";
    static volatile long sink;

    private JitChurnWorkload() {
    }

    static long steadyLeaf(long x) {
        long s = x;
        for (int i = 0; i < 1000; i++) {
            s = s * 31 + i;
        }
        return s;
    }

    static long steadyLoop(long n) {
        long s = 0;
        for (long i = 0; i < n; i++) {
            s += steadyLeaf(i);
        }
        return s;
    }

    static void steadyEntry(long endNs) {
        while (System.nanoTime() < endNs) {
            sink += steadyLoop(1000);
        }
    }

    /** One class of a thread: defined, called until compiled (a few ms), dropped. */
    static long churnRound(MethodHandles.Lookup lookup, byte[] bytes, int thread, int round) throws Throwable {
        ClassFile cf = ClassFile.of();
        byte[] renamed = cf.transformClass(cf.parse(bytes),
                ClassDesc.of(JitChurnWorkload.class.getPackageName() + "." + PREFIX + thread + "R" + round), ClassTransform.ACCEPT_ALL);
        MethodHandles.Lookup hidden = lookup.defineHiddenClass(renamed, true);
        MethodHandle work = hidden.findStatic(hidden.lookupClass(), "work", MethodType.methodType(long.class, long.class));
        long s = 0;
        for (int i = 0; i < 6000; i++) {
            s += (long) work.invokeExact((long) i);
        }
        return s;
    }

    static void churnEntry(int thread, long endNs) throws Throwable {
        byte[] bytes;
        try (InputStream in = JitChurnWorkload.class.getResourceAsStream("ChurnedWorker.class")) {
            bytes = in.readAllBytes();
        }
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        int round = 0;
        while (System.nanoTime() < endNs) {
            sink += churnRound(lookup, bytes, thread, round);
            if (++round % 8 == 0 && thread == 0) {
                System.gc();
            }
        }
        System.out.println("churn-" + thread + " rounds: " + round);
    }

    public static void main(String[] args) throws Exception {
        long runNs = Long.parseLong(args[0]) * 1_000_000L;
        int threads = Integer.parseInt(args[1]);
        long end = System.nanoTime() + runNs;
        List<Thread> all = new ArrayList<>();
        all.add(new Thread(() -> steadyEntry(end), "steady"));
        for (int t = 0; t < threads; t++) {
            int thread = t;
            all.add(new Thread(() -> {
                try {
                    churnEntry(thread, end);
                } catch (Throwable e) {
                    throw new IllegalStateException(e);
                }
            }, "churn-" + t));
        }
        for (Thread t : all) {
            t.start();
        }
        for (Thread t : all) {
            t.join();
        }
        System.out.println("done");
    }
}
