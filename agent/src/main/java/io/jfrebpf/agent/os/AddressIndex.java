package io.jfrebpf.agent.os;

/**
 * Start addresses sorted for a floor lookup, each with an int that says what starts there (a
 * symbol's index, a name's offset): the compact form of a symbol table, 12 bytes an entry, no
 * object per entry. Addresses compare unsigned (kernel addresses have the top bit set). Where
 * several entries start at one address, the last one given wins: the one a stable sort would
 * leave last, as the tables this replaced answered.
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
        if (count < 0 || count > addresses.length || count > payloads.length) {
            throw new IllegalArgumentException("count " + count);
        }
        if (!sorted(addresses, payloads, count)) {
            heapSort(addresses, payloads, count);
        }
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (n > 0 && addresses[n - 1] == addresses[i]) {
                n--; // the later one replaces it
            }
            addresses[n] = addresses[i];
            payloads[n] = payloads[i];
            n++;
        }
        if (addresses.length - n > addresses.length / 4) {
            return new AddressIndex(java.util.Arrays.copyOf(addresses, n), java.util.Arrays.copyOf(payloads, n), n);
        }
        return new AddressIndex(addresses, payloads, n);
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
