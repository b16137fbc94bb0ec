package io.jfrebpf.agent.probe;

import io.jfrebpf.bpf.SyscallLatencyLayout;
import io.jfrebpf.agent.libbpf.BpfMap;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Mirror of {@code struct syscall_stats} (bpf/syscall_latency.h): one syscall's counters since
 * the probe was loaded, summed over CPUs.
 */
public record SyscallStats(long count, long errors, long totalNs, long maxNs, long[] histogram) {
    public static final long SIZE = SyscallLatencyLayout.SyscallStats.SIZE;
    public static final long COUNT = SyscallLatencyLayout.SyscallStats.COUNT;
    public static final long ERRORS = SyscallLatencyLayout.SyscallStats.ERRORS;
    public static final long TOTAL_NS = SyscallLatencyLayout.SyscallStats.TOTAL_NS;
    public static final long MAX_NS = SyscallLatencyLayout.SyscallStats.MAX_NS;
    public static final long HISTOGRAM = SyscallLatencyLayout.SyscallStats.HISTOGRAM;
    public static final int MAX_NR = (int) SyscallLatencyLayout.SYSCALL_MAX_NR;
    public static final int HIST_BUCKETS = (int) SyscallLatencyLayout.SYSCALL_HIST_BUCKETS;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    /** Bytes of a per-CPU lookup of one key. */
    public static long perCpuBytes(int cpus) {
        return BpfMap.perCpuStride(SIZE) * cpus;
    }

    public static long perCpuStride(long valueSize) {
        return BpfMap.perCpuStride(valueSize);
    }

    /** Sums the per-CPU values of one key (max: the largest). */
    public static SyscallStats merge(MemorySegment perCpu, int cpus) {
        Records.requireSize(perCpu, perCpuBytes(cpus), "syscall_stats per CPU");
        long stride = BpfMap.perCpuStride(SIZE);
        long count = 0;
        long errors = 0;
        long total = 0;
        long max = 0;
        long[] hist = new long[HIST_BUCKETS];
        for (int cpu = 0; cpu < cpus; cpu++) {
            long base = cpu * stride;
            count += perCpu.get(U64, base + COUNT);
            errors += perCpu.get(U64, base + ERRORS);
            total += perCpu.get(U64, base + TOTAL_NS);
            max = Math.max(max, perCpu.get(U64, base + MAX_NS));
            for (int b = 0; b < HIST_BUCKETS; b++) {
                hist[b] += perCpu.get(U64, base + HISTOGRAM + 8L * b);
            }
        }
        return new SyscallStats(count, errors, total, max, hist);
    }

    /** The calls of a period: this cumulative total minus the one at the period's start (max stays cumulative). */
    public SyscallStats minus(SyscallStats before) {
        long[] hist = new long[HIST_BUCKETS];
        for (int b = 0; b < HIST_BUCKETS; b++) {
            hist[b] = histogram[b] - before.histogram[b];
        }
        return new SyscallStats(count - before.count, errors - before.errors, totalNs - before.totalNs, maxNs, hist);
    }

    /** Lower bound in ns of a bucket: [2^i, 2^(i+1)), bucket 0 from 0. */
    public static long bucketLowerNs(int bucket) {
        return bucket == 0 ? 0 : 1L << bucket;
    }

    /** {@code lowerBoundNs:count} for each non-empty bucket, space separated. */
    public String histogramText() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < HIST_BUCKETS; i++) {
            if (histogram[i] != 0) {
                if (b.length() > 0) {
                    b.append(' ');
                }
                b.append(bucketLowerNs(i)).append(':').append(histogram[i]);
            }
        }
        return b.toString();
    }

    /** The upper bound of the highest non-empty bucket: a bound for the longest call. */
    public long histogramUpperBoundNs() {
        for (int i = HIST_BUCKETS - 1; i >= 0; i--) {
            if (histogram[i] != 0) {
                return i >= 62 ? Long.MAX_VALUE : (1L << (i + 1)) - 1;
            }
        }
        return 0;
    }
}
