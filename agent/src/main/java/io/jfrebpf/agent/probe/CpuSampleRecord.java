package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.bpf.CpuSampleLayout;
import java.lang.foreign.MemorySegment;

/** Mirror of {@code struct cpu_sample_record} (bpf/cpu_sample.h). */
public record CpuSampleRecord(EventHeader header, int cpu, boolean kernel) {
    public static final long SIZE = CpuSampleLayout.CpuSampleRecord.SIZE;
    public static final long HEADER = CpuSampleLayout.CpuSampleRecord.HEADER;
    public static final long CPU = CpuSampleLayout.CpuSampleRecord.CPU;
    public static final long STATE = CpuSampleLayout.CpuSampleRecord.STATE;
    public static final int STATE_USER = (int) CpuSampleLayout.CPU_STATE_USER;
    public static final int STATE_KERNEL = (int) CpuSampleLayout.CPU_STATE_KERNEL;

    public static CpuSampleRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "cpu_sample_record");
        BpfBytes r = BpfBytes.of(record, SIZE);
        return new CpuSampleRecord(EventHeader.decode(r), r.u32(CPU), r.u32(STATE) == STATE_KERNEL);
    }
}
