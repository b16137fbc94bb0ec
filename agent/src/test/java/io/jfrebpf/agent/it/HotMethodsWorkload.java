package io.jfrebpf.agent.it;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * A known profile of hot methods, to compare profilers on (HotMethodsIT). Worker threads
 * "hot-N" run rounds of {@link #ROUND_NS}; a round is a chain of ten nested levels,
 * {@code level1 -> level2 -> ... -> level10}, the last recursing {@link #DEPTH} times, and each
 * level spends a fixed slice of the round in its own leaf before it calls the next:
 * <ul>
 * <li>level1 SHA-256 ({@code MessageDigest.update}: the sha256 stub), level2 {@link #javaLeaf}
 *     (C2 code, not inlined), level3 {@code Arrays.mismatch} (the vectorized mismatch stub),
 *     level4 {@link #interpretedLeaf} (never compiled), level5 {@link #inlinedLeaf} (inlined into
 *     level5), level6 CRC32 (its stub), level7 {@code BigInteger.modPow} (Montgomery
 *     multiplication in libjvm), level8 {@code System.arraycopy} (a copy stub), level9
 *     {@code Math.log} (its stub): 9% of the round each;
 * <li>level10, at the bottom of its recursion: {@link #deepJava}, {@link #deepInterpreted} and
 *     {@link #deepInlined}, 6% each.
 * </ul>
 * So the inclusive time of level k is the sum of the slices from k on (100%, 91%, ... 18%), ten
 * distinct totals above every leaf's, and the leaves' self times are 9% and 6%. Which methods the
 * test compiles, inlines or excludes it says with CompileCommand flags. Arguments: worker threads
 * and seconds.
 */
public final class HotMethodsWorkload {
    static final long ROUND_NS = 20_000_000L;
    static final long SLICE_NS = ROUND_NS * 9 / 100;
    static final long DEEP_SLICE_NS = ROUND_NS * 6 / 100;
    static final int DEPTH = 30;
    static volatile long sink;

    private HotMethodsWorkload() {
    }

    /** One worker's data. */
    static final class Work {
        final MessageDigest sha;
        final byte[] block = new byte[16 << 10];
        final byte[] left = new byte[256 << 10];
        final byte[] right;
        final byte[] copy = new byte[256 << 10];
        final CRC32 crc = new CRC32();
        final BigInteger modulus;
        final BigInteger base;
        final BigInteger exponent;
        double x = 1.5;

        Work(int seed) throws Exception {
            sha = MessageDigest.getInstance("SHA-256");
            Random r = new Random(seed);
            r.nextBytes(block);
            r.nextBytes(left);
            right = left.clone();
            right[right.length - 1] ^= 1;
            modulus = BigInteger.probablePrime(512, r);
            base = new BigInteger(500, r);
            exponent = new BigInteger(500, r);
        }
    }

    static long sha256(Work w) {
        w.sha.update(w.block);
        return w.block.length;
    }

    static long javaLeaf(long x) {
        long s = x;
        for (int i = 0; i < 20_000; i++) {
            s = s * 6364136223846793005L + i;
        }
        return s;
    }

    static long mismatch(Work w) {
        return Arrays.mismatch(w.left, w.right);
    }

    static long interpretedLeaf(int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += i % 7;
        }
        return s;
    }

    static long inlinedLeaf(long x) {
        long s = x;
        for (int i = 0; i < 20_000; i++) {
            s = (s ^ (s >>> 7)) * 31 + i;
        }
        return s;
    }

    static long crc(Work w) {
        w.crc.update(w.block);
        return w.crc.getValue();
    }

    static long modPow(Work w) {
        return w.base.modPow(w.exponent, w.modulus).bitLength();
    }

    static long copy(Work w) {
        System.arraycopy(w.left, 0, w.copy, 0, w.left.length);
        return w.copy[7];
    }

    static long log(Work w) {
        double s = 0;
        for (int i = 1; i <= 2_000; i++) {
            s += Math.log(w.x + i);
        }
        return (long) s;
    }

    static long deepJava(long x) {
        long s = x;
        for (int i = 0; i < 20_000; i++) {
            s = s * 2862933555777941757L + 3037000493L + i;
        }
        return s;
    }

    static long deepInterpreted(int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += i % 5;
        }
        return s;
    }

    static long deepInlined(long x) {
        long s = x;
        for (int i = 0; i < 20_000; i++) {
            s = (s + (s << 3)) ^ i;
        }
        return s;
    }

    static void level1(Work w) {
        long end = System.nanoTime() + SLICE_NS;
        while (System.nanoTime() < end) {
            sink += sha256(w);
        }
        level2(w);
    }

    static void level2(Work w) {
        long end = System.nanoTime() + SLICE_NS;
        while (System.nanoTime() < end) {
            sink += javaLeaf(sink);
        }
        level3(w);
    }

    static void level3(Work w) {
        long end = System.nanoTime() + SLICE_NS;
        while (System.nanoTime() < end) {
            sink += mismatch(w);
        }
        level4(w);
    }

    static void level4(Work w) {
        long end = System.nanoTime() + SLICE_NS;
        while (System.nanoTime() < end) {
            sink += interpretedLeaf(2_000);
        }
        level5(w);
    }

    static void level5(Work w) {
        long end = System.nanoTime() + SLICE_NS;
        while (System.nanoTime() < end) {
            sink += inlinedLeaf(sink);
        }
        level6(w);
    }

    static void level6(Work w) {
        long end = System.nanoTime() + SLICE_NS;
        while (System.nanoTime() < end) {
            sink += crc(w);
        }
        level7(w);
    }

    static void level7(Work w) {
        long end = System.nanoTime() + SLICE_NS;
        while (System.nanoTime() < end) {
            sink += modPow(w);
        }
        level8(w);
    }

    static void level8(Work w) {
        long end = System.nanoTime() + SLICE_NS;
        while (System.nanoTime() < end) {
            sink += copy(w);
        }
        level9(w);
    }

    static void level9(Work w) {
        long end = System.nanoTime() + SLICE_NS;
        while (System.nanoTime() < end) {
            sink += log(w);
        }
        level10(w, DEPTH);
    }

    static void level10(Work w, int depth) {
        if (depth > 0) {
            level10(w, depth - 1);
            sink++;
            return;
        }
        long end = System.nanoTime() + DEEP_SLICE_NS;
        while (System.nanoTime() < end) {
            sink += deepJava(sink);
        }
        end = System.nanoTime() + DEEP_SLICE_NS;
        while (System.nanoTime() < end) {
            sink += deepInterpreted(2_000);
        }
        end = System.nanoTime() + DEEP_SLICE_NS;
        while (System.nanoTime() < end) {
            sink += deepInlined(sink);
        }
    }

    static void work(int seed, long endNs) throws Exception {
        Work w = new Work(seed);
        while (System.nanoTime() < endNs) {
            level1(w);
        }
    }

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        long end = System.nanoTime() + (long) (Double.parseDouble(args[1]) * 1e9);
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int seed = i;
            Thread t = new Thread(() -> {
                try {
                    work(seed, end);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "hot-" + i);
            t.start();
            all.add(t);
        }
        for (Thread t : all) {
            t.join();
        }
        System.out.println("done");
    }
}
