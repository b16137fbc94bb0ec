package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.bpf.OffcpuObject;
import io.jfrebpf.events.OffCPUEvent;
import java.lang.foreign.MemorySegment;

/**
 * {@code offcpu}: time our threads spend off CPU — blocked, sleeping or preempted — at or above
 * {@code offcpu.threshold}, with the stack where each blocked (kernel and user) and its state, as
 * {@code ebpf.OffCPU}. One tp_btf program on sched_switch: every context switch on the host runs
 * its first two comparisons.
 */
public final class OffCpuProbe extends BpfProbe {
    public OffCpuProbe() {
        super("offcpu", OffcpuObject.OBJECT, OffcpuObject.Maps.EVENTS);
    }

    @Override
    protected void configure(BpfObject object) throws BpfException {
        object.rodata().setLong(OffcpuObject.Rodata.MIN_DURATION_NS, context.options().offcpuThreshold().toNanos());
    }

    @Override
    protected void attach(BpfObject object) throws BpfException {
        keep(object.program(OffcpuObject.Programs.SCHED_SWITCH).attach());
    }

    @Override
    public String attachedAs() {
        return "tp_btf sched_switch, threshold " + context.options().offcpuThreshold().toNanos() / 1000 + " us";
    }

    @Override
    protected String recoveredWhat() {
        return "off-CPU stretches (no kernel stack)";
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        OffCpuRecord r = OffCpuRecord.decode(segment);
        OffCPUEvent e = new OffCPUEvent();
        e.state = OffCpuRecord.stateName(r.state());
        emit(e, r.header(), r.kernelIps());
    }
}
