package io.jfrebpf.agent.probe;

import io.jfrebpf.bpf.SchedLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Mirror of {@code struct runq_record} (bpf/sched.h). */
public record RunQueueRecord(EventHeader header, int cpu, boolean preempted) {
    public static final long SIZE = SchedLayout.RunqRecord.SIZE;
    public static final long HEADER = SchedLayout.RunqRecord.HEADER;
    public static final long CPU = SchedLayout.RunqRecord.CPU;
    public static final long PREEMPTED = SchedLayout.RunqRecord.PREEMPTED;

    public static RunQueueRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "runq_record");
        return new RunQueueRecord(EventHeader.decode(record), record.get(ValueLayout.JAVA_INT_UNALIGNED, CPU),
                record.get(ValueLayout.JAVA_INT_UNALIGNED, PREEMPTED) != 0);
    }
}
