package io.jfrebpf.agent.stack;

import io.jfrebpf.bpf.StackLayout;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The process's executable mappings as the kernel's walk checks a native return address against
 * them ({@code struct exec_ranges}, bpf/stack.h): sorted, disjoint {@code [start, end)} pairs,
 * touching ones joined, at most {@link #MAX}; past that the pairs closest together are merged
 * (a superset only lets more words through, it never rejects a real return address).
 *
 * <p>Read from {@code /proc/self/maps} when {@link StackMaps#refreshExecutable} sees the mapped
 * code's size change (a library loaded later is known within a period of the agent's thread), or
 * every 30 s: the bytes go into one reused buffer and only the executable lines' two addresses
 * are parsed, so that a reread costs one read and a few small objects.
 */
final class ExecutableRanges {
    static final int MAX = (int) StackLayout.EXEC_RANGES_MAX;
    /** Bytes of {@code struct exec_ranges}: count, padding, MAX starts, MAX ends (the objects' BTF). */
    static final long SIZE = StackLayout.ExecRanges.SIZE;
    private static final int MAX_READ = 4 << 20;

    private byte[] text = new byte[64 << 10];
    /** The pairs parsed from the text, start then end, before joining; grown as needed. */
    private long[] parsed = new long[2 * MAX];
    private long[] ranges = new long[0];

    /** Rereads the mappings; whether the ranges changed since the last call. */
    boolean reread() throws IOException {
        int length = read();
        int m = join(parsed, parse(text, length), MAX);
        if (Arrays.equals(parsed, 0, 2 * m, ranges, 0, ranges.length)) {
            return false;
        }
        ranges = Arrays.copyOf(parsed, 2 * m);
        return true;
    }

    /** The current ranges as {@code struct exec_ranges} into {@code value} (SIZE bytes). */
    void writeTo(MemorySegment value) {
        value.fill((byte) 0);
        int n = ranges.length / 2;
        value.set(ValueLayout.JAVA_INT_UNALIGNED, StackLayout.ExecRanges.COUNT, n);
        for (int i = 0; i < n; i++) {
            value.set(ValueLayout.JAVA_LONG_UNALIGNED, StackLayout.ExecRanges.START + 8L * i, ranges[2 * i]);
            value.set(ValueLayout.JAVA_LONG_UNALIGNED, StackLayout.ExecRanges.END + 8L * i, ranges[2 * i + 1]);
        }
    }

    int count() {
        return ranges.length / 2;
    }

    /** The buffer {@link #parse} fills (start, end, start, end...). */
    long[] parsed() {
        return parsed;
    }

    private int read() throws IOException {
        try (RandomAccessFile f = new RandomAccessFile("/proc/self/maps", "r")) {
            int length = 0;
            while (true) {
                if (length == text.length) {
                    if (text.length >= MAX_READ) {
                        return length; // a process with more mappings than this: the rest is not looked at
                    }
                    text = Arrays.copyOf(text, text.length * 2);
                }
                int r = f.read(text, length, text.length - length);
                if (r < 0) {
                    return length;
                }
                length += r;
            }
        }
    }

    /**
     * Parses the executable lines of maps text ({@code start-end perms ...}, addresses in hex) into
     * {@link #parsed}; returns how many pairs. Lines that do not parse are skipped.
     */
    int parse(byte[] b, int length) {
        int pairs = 0;
        int i = 0;
        while (i < length) {
            int lineEnd = i;
            while (lineEnd < length && b[lineEnd] != '\n') {
                lineEnd++;
            }
            long start = 0;
            long end = 0;
            int p = i;
            int digits = 0;
            for (; p < lineEnd && b[p] != '-'; p++, digits++) {
                start = (start << 4) | hex(b[p]);
            }
            boolean ok = digits > 0 && digits <= 16 && p < lineEnd;
            p++;
            digits = 0;
            for (; ok && p < lineEnd && b[p] != ' '; p++, digits++) {
                end = (end << 4) | hex(b[p]);
            }
            ok = ok && digits > 0 && digits <= 16 && p + 4 < lineEnd && b[p + 3] == 'x';
            if (ok && start >= 0 && Long.compareUnsigned(start, end) < 0 && !invalid(b, i, p)) {
                if (2 * pairs + 2 > parsed.length) {
                    parsed = Arrays.copyOf(parsed, parsed.length * 2);
                }
                parsed[2 * pairs] = start;
                parsed[2 * pairs + 1] = end;
                pairs++;
            }
            i = lineEnd + 1;
        }
        return pairs;
    }

    /** Whether a character of the two addresses in b[from, to) is not a hex digit or the dash. */
    private static boolean invalid(byte[] b, int from, int to) {
        for (int k = from; k < to; k++) {
            if (b[k] != '-' && hex(b[k]) < 0) {
                return true;
            }
        }
        return false;
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    /**
     * Sorts the pairs in {@code p[0, 2*n)} in place (maps text is sorted already: then this only
     * looks), joins overlapping and touching ones, then merges the two closest together until at
     * most {@code max} remain; returns how many pairs are left at the front of {@code p}.
     */
    static int join(long[] p, int n, int max) {
        for (int k = 1; k < n; k++) { // insertion sort: no pass over sorted input moves anything
            long s = p[2 * k];
            long e = p[2 * k + 1];
            int j = k - 1;
            while (j >= 0 && Long.compareUnsigned(p[2 * j], s) > 0) {
                p[2 * j + 2] = p[2 * j];
                p[2 * j + 3] = p[2 * j + 1];
                j--;
            }
            p[2 * j + 2] = s;
            p[2 * j + 3] = e;
        }
        int m = 0;
        for (int k = 0; k < n; k++) {
            long s = p[2 * k];
            long e = p[2 * k + 1];
            if (m > 0 && Long.compareUnsigned(s, p[2 * m - 1]) <= 0) {
                if (Long.compareUnsigned(e, p[2 * m - 1]) > 0) {
                    p[2 * m - 1] = e;
                }
            } else {
                p[2 * m] = s;
                p[2 * m + 1] = e;
                m++;
            }
        }
        while (m > max) {
            int closest = 0;
            for (int k = 1; k < m - 1; k++) {
                if (Long.compareUnsigned(p[2 * k + 2] - p[2 * k + 1], p[2 * closest + 2] - p[2 * closest + 1]) < 0) {
                    closest = k;
                }
            }
            p[2 * closest + 1] = p[2 * closest + 3];
            System.arraycopy(p, 2 * closest + 4, p, 2 * closest + 2, 2 * (m - closest - 2));
            m--;
        }
        return m;
    }
}
