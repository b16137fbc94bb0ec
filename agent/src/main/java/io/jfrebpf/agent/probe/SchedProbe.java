package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.os.Cgroups;
import io.jfrebpf.bpf.SchedObject;
import io.jfrebpf.events.CPUThrottleEvent;
import io.jfrebpf.events.RunQueueLatencyEvent;
import io.jfrebpf.events.read.EventNames;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * {@code sched}: {@code ebpf.RunQueueLatency} — our threads' waits to run, at or above
 * {@code sched.threshold} (tp_btf sched_wakeup, sched_wakeup_new, sched_switch; bpf/sched.bpf.c)
 * — and {@code ebpf.CPUThrottle}, the cgroup's quota counters (cpu.stat) read every period of
 * the poller (about a second), so that a latency can be laid next to "throttled 40% of that
 * second".
 */
public final class SchedProbe extends BpfProbe {
    private Cgroups cgroups;
    private Cgroups.CpuStat last;
    private long lastNs;
    private String attachedAs = "";

    public SchedProbe() {
        super("sched", SchedObject.OBJECT, SchedObject.Maps.EVENTS);
    }

    @Override
    protected void configure(BpfObject object) throws BpfException {
        object.rodata().setLong(SchedObject.Rodata.MIN_LATENCY_NS, context.options().schedThreshold().toNanos());
    }

    @Override
    protected void attach(BpfObject object) throws Exception {
        for (String program : new String[] {SchedObject.Programs.SCHED_WAKEUP, SchedObject.Programs.SCHED_WAKEUP_NEW,
                SchedObject.Programs.SCHED_SWITCH}) {
            keep(object.program(program).attach());
        }
        String throttling;
        try {
            cgroups = Cgroups.self();
            Optional<Cgroups.CpuStat> stat = cgroups.cpuStat();
            last = stat.orElse(null);
            lastNs = System.nanoTime();
            throttling = stat.isPresent() ? "cpu.stat of " + cgroups.dir("cpu").map(Object::toString).orElse("?")
                    : "no cpu.stat visible: no " + EventNames.CPU_THROTTLE;
        } catch (IOException | RuntimeException e) {
            throttling = "cgroups unreadable (" + e.getMessage() + "): no " + EventNames.CPU_THROTTLE;
        }
        attachedAs = "tp_btf sched_wakeup, sched_wakeup_new, sched_switch, threshold "
                + context.options().schedThreshold().toNanos() / 1000 + " us; " + throttling;
        Log.debug("sched: %s", attachedAs);
    }

    @Override
    public String attachedAs() {
        return attachedAs;
    }

    @Override
    protected String recoveredWhat() {
        return "run-queue waits sent without seeing their thread come back";
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        RunQueueRecord r = RunQueueRecord.decode(segment);
        RunQueueLatencyEvent e = new RunQueueLatencyEvent();
        e.cpu = r.cpu();
        e.preempted = r.preempted();
        emit(e, r.header());
    }

    /** The throttling of the period since the last call. */
    @Override
    public void periodic(long nowNs) {
        if (cgroups == null) {
            return;
        }
        try {
            Cgroups now = Cgroups.self();
            if (!now.dir("cpu").equals(cgroups.dir("cpu"))) {
                // moved to another cgroup: its counters start a new series (ebpf.ContainerInfo says where)
                cgroups = now;
                last = now.cpuStat().orElse(null);
                lastNs = nowNs;
                return;
            }
        } catch (IOException | RuntimeException e) {
            Log.debug("sched: cgroups unreadable: %s", e.getMessage());
        }
        if (last == null) {
            return;
        }
        Optional<Cgroups.CpuStat> stat = cgroups.cpuStat();
        if (stat.isEmpty()) {
            return;
        }
        Cgroups.CpuStat s = stat.get();
        CPUThrottleEvent e = new CPUThrottleEvent();
        e.periods = Math.max(0, s.periods() - last.periods());
        e.throttledPeriods = Math.max(0, s.throttledPeriods() - last.throttledPeriods());
        e.throttledTime = Math.max(0, s.throttledNanos() - last.throttledNanos());
        emit(e, lastNs, nowNs - lastNs);
        last = s;
        lastNs = nowNs;
    }
}
