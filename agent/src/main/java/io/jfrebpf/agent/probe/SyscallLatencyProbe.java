package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfMap;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.BpfProgram;
import io.jfrebpf.agent.os.SyscallTable;
import io.jfrebpf.bpf.SyscallLatencyObject;
import io.jfrebpf.events.SyscallLatencyEvent;
import io.jfrebpf.events.SyscallStatisticsEvent;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code syscall}: the latency of every syscall of our process. Every call is counted in the
 * kernel per syscall (count, errors, total, max, log2 histogram) and emitted each period as
 * {@code ebpf.SyscallStatistics}; calls at or above {@code syscall.threshold} also come one by
 * one as {@code ebpf.SyscallLatency}. Opt-in: any syscall tracepoint slows every syscall of every
 * process on the host (facts.md), however little its program does.
 */
public final class SyscallLatencyProbe extends BpfProbe {
    private SyscallTable table;
    private final Arena arena = Arena.ofShared();
    private MemorySegment key;
    private MemorySegment perCpu;
    private int cpus;
    /** Cumulative per-syscall totals at the end of the previous period. */
    private SyscallStats[] previous;
    private long periodStartNs;

    public SyscallLatencyProbe() {
        super("syscall", SyscallLatencyObject.OBJECT, SyscallLatencyObject.Maps.EVENTS);
    }

    @Override
    protected void configure(BpfObject object) throws BpfException {
        table = context.syscalls().get();
        object.rodata().setLong(SyscallLatencyObject.Rodata.MIN_DURATION_NS, context.options().syscallThreshold().toNanos());
    }

    @Override
    protected void attach(BpfObject object) throws BpfException {
        for (BpfProgram p : object.programs()) {
            keep(p.attach());
        }
        cpus = BpfMap.possibleCpus();
        key = arena.allocate(ValueLayout.JAVA_INT);
        perCpu = arena.allocate(SyscallStats.perCpuBytes(cpus), 8);
        previous = new SyscallStats[SyscallStats.MAX_NR];
        periodStartNs = System.nanoTime();
    }

    @Override
    public String attachedAs() {
        return "tp_btf sys_enter/sys_exit, " + table.size() + " syscall names from " + table.source();
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        SyscallLatencyRecord r = SyscallLatencyRecord.decode(segment);
        SyscallLatencyEvent e = new SyscallLatencyEvent();
        e.syscall = table.name(r.number());
        e.number = r.number();
        e.result = r.result();
        emit(e, r.header());
    }

    /** One {@code ebpf.SyscallStatistics} per syscall called in the period that just ended. */
    @Override
    public void periodic(long nowNs) {
        if (object == null || previous == null) {
            return;
        }
        BpfMap stats;
        BpfMap periodMax;
        try {
            stats = object.map(SyscallLatencyObject.Maps.STATS);
            periodMax = object.map(SyscallLatencyObject.Maps.PERIOD_MAX);
        } catch (BpfException e) {
            Log.debug("syscall: %s", e.getMessage());
            return;
        }
        long start = periodStartNs;
        periodStartNs = nowNs;
        for (int nr = 0; nr < SyscallStats.MAX_NR; nr++) {
            key.set(ValueLayout.JAVA_INT, 0, nr);
            SyscallStats now;
            try {
                if (!stats.lookup(key, perCpu)) {
                    continue;
                }
                now = SyscallStats.merge(perCpu, cpus);
            } catch (BpfException e) {
                Log.debug("syscall: reading statistics of %d failed: %s", nr, e.getMessage());
                continue;
            }
            SyscallStats before = previous[nr];
            if (now.count() == 0 || (before != null && before.count() == now.count())) {
                continue;
            }
            previous[nr] = now;
            SyscallStats delta = before == null ? now : now.minus(before);
            SyscallStatisticsEvent e = new SyscallStatisticsEvent();
            e.syscall = table.name(nr);
            e.number = nr;
            e.count = delta.count();
            e.errors = delta.errors();
            e.totalTime = delta.totalNs();
            e.maxTime = takePeriodMax(periodMax, delta);
            e.histogram = delta.histogramText();
            emit(e, start, nowNs - start);
        }
    }

    /**
     * The longest call of the period: the kernel keeps a per-CPU maximum that we read and reset;
     * a call ending between the read and the reset can be missed, which the histogram bounds. The
     * maximum is read after the statistics, so a call ending in between is in the maximum but not
     * yet in the period's count: a maximum above what the period's own calls allow (its total,
     * its histogram's highest bucket) is such a call's, and the period's bound stands instead.
     */
    private long takePeriodMax(BpfMap periodMax, SyscallStats delta) {
        try {
            long max = 0;
            if (periodMax.lookup(key, perCpu)) {
                long stride = SyscallStats.perCpuStride(ValueLayout.JAVA_LONG.byteSize());
                for (int cpu = 0; cpu < cpus; cpu++) {
                    max = Math.max(max, perCpu.get(ValueLayout.JAVA_LONG, cpu * stride));
                }
                perCpu.fill((byte) 0);
                periodMax.update(key, perCpu);
            }
            long bound = Math.min(delta.histogramUpperBoundNs(), delta.totalNs());
            return max > 0 && max <= bound ? max : bound;
        } catch (BpfException e) {
            return Math.min(delta.histogramUpperBoundNs(), delta.totalNs());
        }
    }

    @Override
    public void close() {
        super.close();
        try {
            arena.close();
        } catch (IllegalStateException ignored) {
            // already closed
        }
    }
}
