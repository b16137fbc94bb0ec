package io.jfrebpf.bench;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * {@link CpuWorkload}'s rounds run {@code depth} calls deep (a recursion of this class's
 * {@link #descend}), for a stack walk's cost per frame: {@code DeepCpuWorkload threads seconds
 * depth}, worker threads "worker-N" as in CpuWorkload; prints {@code rounds=N}.
 */
public final class DeepCpuWorkload {
    static volatile long sink;

    private DeepCpuWorkload() {
    }

    static long descend(int depth, long endNs, Random r, byte[] data) throws Exception {
        if (depth > 0) {
            long n = descend(depth - 1, endNs, r, data);
            sink++;
            return n;
        }
        long n = 0;
        for (int i = 0; System.nanoTime() < endNs; i++) {
            sink += CpuWorkload.round(r, data, i);
            n++;
        }
        return n;
    }

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        long end = System.nanoTime() + (long) (Double.parseDouble(args[1]) * 1e9);
        int depth = Integer.parseInt(args[2]);
        Thread[] ts = new Thread[threads];
        long[] rounds = new long[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = new Thread(() -> {
                byte[] data = "the quick brown fox jumps over the lazy dog".repeat(20).getBytes(StandardCharsets.UTF_8);
                try {
                    rounds[id] = descend(depth, end, new Random(id), data);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "worker-" + t);
            ts[t].start();
        }
        long total = 0;
        for (int t = 0; t < threads; t++) {
            ts[t].join();
            total += rounds[t];
        }
        System.out.println("rounds=" + total);
    }
}
