package io.jfrebpf.agent.probe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Mirror of {@code struct cpu_sample_record} (bpf/cpu_sample.h). */
public record CpuSampleRecord(EventHeader header, int cpu, boolean kernel) {
    public static final long SIZE = 64;
    public static final long HEADER = 0;
    public static final long CPU = 56;
    public static final long STATE = 60;
    public static final int STATE_USER = 0;
    public static final int STATE_KERNEL = 1;

    public static CpuSampleRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "cpu_sample_record");
        return new CpuSampleRecord(EventHeader.decode(record), record.get(ValueLayout.JAVA_INT_UNALIGNED, CPU),
                record.get(ValueLayout.JAVA_INT_UNALIGNED, STATE) == STATE_KERNEL);
    }
}
