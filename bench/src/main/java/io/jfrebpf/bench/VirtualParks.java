package io.jfrebpf.bench;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;

/**
 * Virtual threads that park and are unparked over and over: pairs hand a token back and forth
 * through a {@link SynchronousQueue}, so that each hand-off unmounts one virtual thread (a
 * freeze) and mounts the other (a thaw). The same number of parks in every run: the process's CPU
 * time against no agent prices what the off-CPU probe's freeze and thaw uprobes cost per park.
 * Prints "main", "done" with the hand-offs and the elapsed time, and "end".
 * Usage: {@code VirtualParks pairs handoffs-per-pair}.
 */
public final class VirtualParks {
    private VirtualParks() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("main " + System.currentTimeMillis());
        int pairs = Integer.parseInt(args[0]);
        int handoffs = Integer.parseInt(args[1]);
        long start = System.nanoTime();
        try (ExecutorService vts = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int p = 0; p < pairs; p++) {
                SynchronousQueue<Integer> ping = new SynchronousQueue<>();
                SynchronousQueue<Integer> pong = new SynchronousQueue<>();
                vts.submit(() -> {
                    for (int i = 0; i < handoffs; i++) {
                        ping.put(i);
                        pong.take();
                    }
                    return null;
                });
                vts.submit(() -> {
                    for (int i = 0; i < handoffs; i++) {
                        pong.put(ping.take());
                    }
                    return null;
                });
            }
        }
        System.out.println("done " + 2L * pairs * handoffs + " hand-offs in " + (System.nanoTime() - start) / 1_000_000 + " ms");
        System.out.println("end " + System.currentTimeMillis());
    }
}
