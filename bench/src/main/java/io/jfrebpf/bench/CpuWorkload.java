package io.jfrebpf.bench;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * A CPU-bound mix for the profiler benchmark: several distinct hot methods (hashing, sorting,
 * maps, strings, big integers, regular expressions, a sieve) so that the hottest methods form a
 * meaningful top ten to compare between profilers. Usage: {@code CpuWorkload threads seconds};
 * prints {@code ops/s=N} over the whole run and {@code steady-ops/s=N} over its last two thirds
 * (after the JIT compilers are done with the workload and with the profiler's own Java code), and
 * {@code ops/worker-cpu-s} and {@code worker-cpu-share}: whether a slower run did less per CPU
 * second (slower code) or got less CPU (other threads ran).
 */
public final class CpuWorkload {
    static volatile long sink;

    private CpuWorkload() {
    }

    static long sha(byte[] data) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] d = data;
        for (int i = 0; i < 20; i++) {
            d = md.digest(d);
        }
        return d[0];
    }

    static long sortInts(Random r) {
        int[] a = new int[2000];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextInt();
        }
        Arrays.sort(a);
        return a[a.length / 2];
    }

    static long mapOps(Random r) {
        Map<Integer, Integer> m = new HashMap<>();
        for (int i = 0; i < 2000; i++) {
            m.merge(r.nextInt(500), 1, Integer::sum);
        }
        return m.size();
    }

    static long strings(int seed) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            b.append(seed + i).append(',');
        }
        return b.toString().split(",").length;
    }

    static long bigMath(Random r) {
        BigInteger m = BigInteger.probablePrime(128, r);
        return BigInteger.valueOf(r.nextLong()).abs().modPow(BigInteger.valueOf(65537), m).bitLength();
    }

    static final Pattern WORD = Pattern.compile("([a-z]+)@([a-z]+)\\.com");

    static long regex(int seed) {
        String text = "alice@example.com bob@test.com carol" + seed + "@x.com dave@mail.com";
        Matcher m = WORD.matcher(text);
        long n = 0;
        while (m.find()) {
            n += m.group(1).length();
        }
        return n;
    }

    static long crc(byte[] data) {
        CRC32 c = new CRC32();
        for (int i = 0; i < 20; i++) {
            c.update(data);
        }
        return c.getValue();
    }

    static long sieve(int n) {
        boolean[] composite = new boolean[n];
        long count = 0;
        for (int i = 2; i < n; i++) {
            if (!composite[i]) {
                count++;
                for (long j = (long) i * i; j < n; j += i) {
                    composite[(int) j] = true;
                }
            }
        }
        return count;
    }

    static long round(Random r, byte[] data, int i) throws Exception {
        return sha(data) + sortInts(r) + mapOps(r) + strings(i) + bigMath(r) + regex(i) + crc(data) + sieve(20_000);
    }

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        long runNs = (long) (Double.parseDouble(args[1]) * 1e9);
        java.util.concurrent.atomic.AtomicLongArray ops = new java.util.concurrent.atomic.AtomicLongArray(threads);
        java.util.concurrent.atomic.AtomicLongArray cpuNs = new java.util.concurrent.atomic.AtomicLongArray(threads);
        Thread[] ts = new Thread[threads];
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = new Thread(() -> {
                Random r = new Random(id);
                byte[] data = "the quick brown fox jumps over the lazy dog".repeat(20).getBytes(StandardCharsets.UTF_8);
                long end = start + runNs;
                try {
                    for (int i = 0; System.nanoTime() < end; i++) {
                        sink += round(r, data, i);
                        ops.incrementAndGet(id);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                cpuNs.set(id, java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime());
            }, "worker-" + t);
            ts[t].start();
        }
        long warm = start + runNs / 3;
        while (System.nanoTime() < warm) {
            Thread.sleep(Math.max(1, (warm - System.nanoTime()) / 1_000_000));
        }
        long warmOps = sum(ops);
        long warmAt = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            ts[t].join();
        }
        long end = System.nanoTime();
        long total = sum(ops);
        System.out.printf("ops/s=%d%n", (long) (total / ((end - start) / 1e9)));
        System.out.printf("steady-ops/s=%d%n", (long) ((total - warmOps) / ((end - warmAt) / 1e9)));
        // whether a slower run got less CPU (something else ran) or did less per CPU second (slower code)
        System.out.printf("ops/worker-cpu-s=%d worker-cpu-share=%.3f%n", (long) (total / (sum(cpuNs) / 1e9)),
                sum(cpuNs) / 1e9 / threads / ((end - start) / 1e9));
    }

    private static long sum(java.util.concurrent.atomic.AtomicLongArray a) {
        long s = 0;
        for (int i = 0; i < a.length(); i++) {
            s += a.get(i);
        }
        return s;
    }
}
