package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.os.ProcMaps;
import io.jfrebpf.bpf.StackLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The executable mappings of this process (libjvm, libc, other shared objects, the code cache,
 * the vDSO) as the kernel's walk checks a return address against them (bpf/stack.bpf.h,
 * {@code executable}): a word of data on the stack that happens to follow bytes of a call
 * instruction is refused unless it lies in code. Sorted, disjoint, at most
 * {@code EXEC_RANGES_MAX}: past that the closest neighbours are merged, never dropped, since a
 * larger range only weakens the check while a missing one would end walks through real code.
 */
public final class ExecRanges {
    static final int MAX = (int) StackLayout.EXEC_RANGES_MAX;

    /** Starts and ends, [start, end), sorted. */
    private final long[] starts;
    private final long[] ends;

    private ExecRanges(long[] starts, long[] ends) {
        this.starts = starts;
        this.ends = ends;
    }

    /** The executable mappings of {@code maps}, at most {@code max} ranges. */
    public static ExecRanges of(ProcMaps maps, int max) {
        List<long[]> ranges = new ArrayList<>();
        for (ProcMaps.Mapping m : maps.mappings()) {
            // [vsyscall] lies above 2^63, where no user pc is and the walk's compare of signs would fail
            if (m.perms().indexOf('x') >= 0 && m.start() >= 0 && m.end() > m.start()) {
                ranges.add(new long[] {m.start(), m.end()});
            }
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        // adjacent or overlapping mappings (a library's text split by a relocation) are one range
        List<long[]> merged = new ArrayList<>();
        for (long[] r : ranges) {
            long[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && r[0] <= last[1]) {
                last[1] = Math.max(last[1], r[1]);
            } else {
                merged.add(r);
            }
        }
        while (merged.size() > max) {
            mergeClosest(merged);
        }
        long[] starts = new long[merged.size()];
        long[] ends = new long[merged.size()];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = merged.get(i)[0];
            ends[i] = merged.get(i)[1];
        }
        return new ExecRanges(starts, ends);
    }

    /** Joins the two neighbours with the smallest gap between them, gap included. */
    private static void mergeClosest(List<long[]> ranges) {
        int best = 0;
        long bestGap = Long.MAX_VALUE;
        for (int i = 0; i + 1 < ranges.size(); i++) {
            long gap = ranges.get(i + 1)[0] - ranges.get(i)[1];
            if (gap < bestGap) {
                bestGap = gap;
                best = i;
            }
        }
        ranges.get(best)[1] = ranges.get(best + 1)[1];
        ranges.remove(best + 1);
    }

    public int count() {
        return starts.length;
    }

    /** Whether pc lies in a range: the walk's search, greatest start at or before pc. */
    public boolean contains(long pc) {
        int i = Arrays.binarySearch(starts, pc);
        int at = i >= 0 ? i : -i - 2;
        return at >= 0 && pc < ends[at];
    }

    /** The value of the exec_ranges map: struct exec_ranges, laid out as the objects' BTF says. */
    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate((int) StackLayout.ExecRanges.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt((int) StackLayout.ExecRanges.COUNT, starts.length);
        for (int i = 0; i < starts.length; i++) {
            long at = StackLayout.ExecRanges.RANGES + i * StackLayout.ExecRange.SIZE;
            b.putLong((int) (at + StackLayout.ExecRange.START), starts[i]);
            b.putLong((int) (at + StackLayout.ExecRange.END), ends[i]);
        }
        return b.array();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExecRanges r && Arrays.equals(starts, r.starts) && Arrays.equals(ends, r.ends);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(starts) + Arrays.hashCode(ends);
    }
}
