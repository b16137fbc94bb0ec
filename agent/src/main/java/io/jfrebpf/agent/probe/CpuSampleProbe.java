package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.BpfProgram;
import io.jfrebpf.agent.os.PerfEvents;
import io.jfrebpf.bpf.CpuSampleObject;
import io.jfrebpf.events.CPUSampleEvent;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cpu}: CPU profiling. A software cpu-clock timer at {@code cpu.hz} on every online CPU;
 * each tick that lands on one of our threads is an {@code ebpf.CPUSample} with the thread's mixed
 * stack, including time in the kernel on its behalf. Other processes' ticks cost the program's
 * first comparison only.
 */
public final class CpuSampleProbe extends BpfProbe {
    private int cpus;
    private final List<Integer> failedCpus = new ArrayList<>();

    public CpuSampleProbe() {
        super("cpu", CpuSampleObject.OBJECT, CpuSampleObject.Maps.EVENTS);
    }

    @Override
    protected void configure(BpfObject object) {
        // no tunables: the frequency is the perf event's
    }

    @Override
    protected void attach(BpfObject object) throws BpfException {
        BpfProgram program = object.program(CpuSampleObject.Programs.CPU_SAMPLE);
        int hz = context.options().cpuHz();
        BpfException first = null;
        for (int cpu : PerfEvents.onlineCpus()) {
            int fd = PerfEvents.cpuClock(cpu, hz);
            if (fd < 0) {
                failedCpus.add(cpu);
                first = first == null ? new BpfException(PerfEvents.describe(cpu, hz, -fd), -fd) : first;
                continue;
            }
            try {
                keep(program.attachPerfEvent(fd)); // takes the fd, also when it fails
                cpus++;
            } catch (BpfException e) {
                failedCpus.add(cpu);
                first = first == null ? e : first;
            }
        }
        if (cpus == 0) {
            throw first != null ? first : new BpfException("no online CPU to sample", 19);
        }
        if (!failedCpus.isEmpty()) {
            Log.warn("cpu: not sampling CPUs %s (%s)", failedCpus, first.getMessage());
        }
    }

    @Override
    public String attachedAs() {
        return "perf_event cpu-clock at " + context.options().cpuHz() + " Hz on " + cpus + " CPUs";
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        CpuSampleRecord r = CpuSampleRecord.decode(segment);
        CPUSampleEvent e = new CPUSampleEvent();
        e.cpu = r.cpu();
        e.state = r.kernel() ? "kernel" : "user";
        emit(e, r.header());
    }
}
