package io.jfrebpf.bench;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The syscall-heavy service loop of the benchmark: open, read and close a small file, as
 * fast as one thread can, for the given seconds after a warm-up. Prints {@code ops/s=N}.
 * With {@code idle} it only waits for the signal file (the JVM whose probes tax the host); with
 * {@code paced seconds opsPerSecond} it opens files at that rate from 4 threads, each file a
 * new name now and then so that paths vary (the soak benchmark).
 */
public final class FileReadLoop {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("idle")) {
            Path signal = Path.of(args[1]);
            System.out.println("ready");
            System.out.flush();
            long end = System.nanoTime() + 300_000_000_000L;
            while (!Files.exists(signal) && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            return;
        }
        if (args[0].equals("paced")) {
            paced(Double.parseDouble(args[1]), Integer.parseInt(args[2]));
            return;
        }
        double seconds = Double.parseDouble(args[0]);
        Path file = Files.createTempFile("bench", ".txt");
        Files.writeString(file, "a small file of the benchmark\n".repeat(4));
        byte[] buffer = new byte[256];
        loop(file, buffer, 1.0);
        long ops = loop(file, buffer, seconds);
        Files.delete(file);
        System.out.printf("ops/s=%.0f%n", ops / seconds);
    }

    private static void paced(double seconds, int opsPerSecond) throws Exception {
        Path dir = Files.createTempDirectory("soak");
        for (int i = 0; i < 1000; i++) {
            Files.writeString(dir.resolve("f-" + i), "soak " + i);
        }
        System.out.println("ready");
        System.out.flush();
        int threads = 4;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long[] ops = new long[threads];
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                byte[] buffer = new byte[64];
                long periodNs = 1_000_000_000L * threads / opsPerSecond;
                long next = System.nanoTime();
                while (System.nanoTime() < end) {
                    try (FileInputStream in = new FileInputStream(dir.resolve("f-" + (ops[id] % 1000)).toFile())) {
                        in.read(buffer);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                    ops[id]++;
                    next += periodNs;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                }
            }, "soak-" + t);
            workers[t].start();
        }
        long total = 0;
        for (int t = 0; t < threads; t++) {
            workers[t].join();
            total += ops[t];
        }
        System.out.printf("ops=%d%n", total);
    }

    private static long loop(Path file, byte[] buffer, double seconds) throws IOException {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long ops = 0;
        String name = file.toString();
        while (System.nanoTime() < end) {
            for (int i = 0; i < 100; i++) {
                try (FileInputStream in = new FileInputStream(name)) {
                    in.read(buffer);
                }
            }
            ops += 100;
        }
        return ops;
    }
}
