package io.jfrebpf.agent.os;

import java.util.Arrays;

/**
 * Start addresses sorted for a floor lookup, each with an int that says what starts there (a
 * symbol's index, a name's offset): the compact form of a symbol table, 12 bytes an entry, no
 * object per entry. Addresses compare unsigned (kernel addresses have the top bit set). Where
 * several entries start at one address, one stays: the last one given, the one a stable sort
 * would leave last, unless the caller chooses.
 */
public final class AddressIndex {
    private final long[] addresses;
    private final int[] payloads;
    private final int size;

    private AddressIndex(long[] addresses, int[] payloads, int size) {
        this.addresses = addresses;
        this.payloads = payloads;
        this.size = size;
    }

    /**
     * The index of the first {@code count} entries, taking the arrays over (sorted in place,
     * no copy unless a quarter or more of them would be wasted). Among entries at one address
     * the one with the greatest payload wins: callers give payloads that grow in input order.
     */
    public static AddressIndex of(long[] addresses, int[] payloads, int count) {
        return of(addresses, payloads, count, LATER);
    }

    /** The later payload: a class, not a lambda (whose bootstrap costs milliseconds at start-up). */
    private static final class Later implements java.util.function.IntBinaryOperator {
        @Override
        public int applyAsInt(int earlier, int later) {
            return later;
        }
    }

    private static final Later LATER = new Later();

    /**
     * As {@link #of(long[], int[], int)}, but among entries at one address {@code keep} says
     * which stays, given the payload kept so far and the next one in payload order.
     */
    public static AddressIndex of(long[] addresses, int[] payloads, int count, java.util.function.IntBinaryOperator keep) {
        if (count < 0 || count > addresses.length || count > payloads.length) {
            throw new IllegalArgumentException("count " + count);
        }
        if (!sorted(addresses, payloads, count) && !packedSort(addresses, payloads, count)) {
            heapSort(addresses, payloads, count);
        }
        int n = dedupe(addresses, payloads, count, keep);
        if (addresses.length - n > addresses.length / 4) {
            return new AddressIndex(Arrays.copyOf(addresses, n), Arrays.copyOf(payloads, n), n);
        }
        return new AddressIndex(addresses, payloads, n);
    }

    /** Of the sorted entries, one at each address, moved to the front; how many. */
    private static int dedupe(long[] addresses, int[] payloads, int count, java.util.function.IntBinaryOperator keep) {
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (n > 0 && addresses[n - 1] == addresses[i]) {
                payloads[n - 1] = keep.applyAsInt(payloads[n - 1], payloads[i]);
                continue;
            }
            addresses[n] = addresses[i];
            payloads[n] = payloads[i];
            n++;
        }
        return n;
    }

    /** The position of the last entry at or below address, or -1. */
    public int floor(long address) {
        int lo = 0;
        int hi = size - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(addresses[mid], address) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    public long address(int position) {
        return addresses[position];
    }

    public int payload(int position) {
        return payloads[position];
    }

    public int size() {
        return size;
    }

    /** Heap bytes held: the two arrays. */
    public long bytes() {
        return 16 + 8L * addresses.length + 16 + 4L * payloads.length;
    }

    private static boolean less(long[] a, int[] p, int i, int j) {
        int c = Long.compareUnsigned(a[i], a[j]);
        return c < 0 || (c == 0 && p[i] < p[j]);
    }

    private static boolean sorted(long[] a, int[] p, int n) {
        for (int i = 1; i < n; i++) {
            if (less(a, p, i, i - 1)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Sorts by (address, payload) as one long per entry, the address as its distance from the
     * lowest one in the upper half: a library's symbols span far less than 4 GiB, the kernel's
     * text with its modules too. A least-significant-digit radix sort of those longs: a few
     * passes of two short loops over primitive arrays, which the JIT compiles in a few
     * milliseconds at C1 (the general {@link Arrays#sort(long[])} cost 30-80 ms of C2 for its one
     * use at start-up on libjvm's 58,000 functions, its partitioning compiled on stack). Only the
     * distance's bits are sorted when the payloads already grow in input order (what every
     * caller gives): a radix sort is stable, so entries at one address stay in payload order.
     * False, nothing changed, when the addresses span more.
     */
    private static boolean packedSort(long[] a, int[] p, int n) {
        // each pass is a method of its own: the JIT compiles a hot loop alone, not the passes
        // after it with it (one method of three loops took 25-40 ms of C2 for its one use)
        long min = min(a, n);
        long span = max(a, n) - min;
        if (Long.compareUnsigned(span, 0xFFFF_FFFFL) > 0) {
            return false;
        }
        long[] keys = pack(a, p, n, min);
        int from = ascending(p, n) ? 32 : 0;
        int to = 32 + 64 - Long.numberOfLeadingZeros(span);
        unpack(radixSort(keys, new long[n], from, to), a, p, min);
        return true;
    }

    /** Bits a radix pass sorts at most: a count table of 2,048 ints. */
    private static final int DIGIT_BITS = 11;

    /**
     * The keys sorted by their bits [from, to), stably (the other bits as they come), in
     * {@code keys} or {@code spare}: the one returned.
     */
    static long[] radixSort(long[] keys, long[] spare, int from, int to) {
        int bits = to - from;
        if (bits <= 0) {
            return keys;
        }
        int passes = (bits + DIGIT_BITS - 1) / DIGIT_BITS;
        int width = (bits + passes - 1) / passes;
        int[] counts = new int[1 << width];
        long[] src = keys;
        long[] dst = spare;
        for (int pass = 0; pass < passes; pass++) {
            int shift = from + pass * width;
            if (count(src, shift, counts)) {
                scatter(src, dst, shift, counts);
                long[] t = src;
                src = dst;
                dst = t;
            }
        }
        return src;
    }

    /**
     * The digit at shift of every key counted, then turned into where each digit's run starts;
     * false (nothing to move) when all keys have one digit.
     */
    private static boolean count(long[] keys, int shift, int[] counts) {
        int mask = counts.length - 1;
        Arrays.fill(counts, 0);
        for (long k : keys) {
            counts[(int) (k >>> shift) & mask]++;
        }
        int at = 0;
        for (int d = 0; d < counts.length; d++) {
            int c = counts[d];
            if (c == keys.length) {
                return false;
            }
            counts[d] = at;
            at += c;
        }
        return true;
    }

    private static void scatter(long[] src, long[] dst, int shift, int[] starts) {
        int mask = starts.length - 1;
        for (long k : src) {
            dst[starts[(int) (k >>> shift) & mask]++] = k;
        }
    }

    /** Whether the payloads grow (or stay) in input order. */
    private static boolean ascending(int[] p, int n) {
        for (int i = 1; i < n; i++) {
            if (p[i] < p[i - 1]) {
                return false;
            }
        }
        return true;
    }

    private static long min(long[] a, int n) {
        long min = a[0];
        for (int i = 1; i < n; i++) {
            if (Long.compareUnsigned(a[i], min) < 0) {
                min = a[i];
            }
        }
        return min;
    }

    private static long max(long[] a, int n) {
        long max = a[0];
        for (int i = 1; i < n; i++) {
            if (Long.compareUnsigned(a[i], max) > 0) {
                max = a[i];
            }
        }
        return max;
    }

    private static long[] pack(long[] a, int[] p, int n, long min) {
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            // the payload's sign bit flipped: the unsigned order of the keys is that of (distance, payload)
            keys[i] = (a[i] - min) << 32 | (p[i] ^ Integer.MIN_VALUE) & 0xFFFF_FFFFL;
        }
        return keys;
    }

    private static void unpack(long[] keys, long[] a, int[] p, long min) {
        for (int i = 0; i < keys.length; i++) {
            long k = keys[i];
            a[i] = min + (k >>> 32);
            p[i] = (int) k ^ Integer.MIN_VALUE;
        }
    }

    /** In place and O(n log n) whatever the input (a garbage file cannot make it quadratic). */
    private static void heapSort(long[] a, int[] p, int n) {
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(a, p, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            swap(a, p, 0, end);
            siftDown(a, p, 0, end);
        }
    }

    private static void siftDown(long[] a, int[] p, int i, int n) {
        while (true) {
            int child = 2 * i + 1;
            if (child >= n) {
                return;
            }
            if (child + 1 < n && less(a, p, child, child + 1)) {
                child++;
            }
            if (!less(a, p, i, child)) {
                return;
            }
            swap(a, p, i, child);
            i = child;
        }
    }

    private static void swap(long[] a, int[] p, int i, int j) {
        long t = a[i];
        a[i] = a[j];
        a[j] = t;
        int u = p[i];
        p[i] = p[j];
        p[j] = u;
    }
}
