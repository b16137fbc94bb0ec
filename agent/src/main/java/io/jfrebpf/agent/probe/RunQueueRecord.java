package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.bpf.SchedLayout;
import java.lang.foreign.MemorySegment;

/** Mirror of {@code struct runq_record} (bpf/sched.h). */
public record RunQueueRecord(EventHeader header, int cpu, boolean preempted) {
    public static final long SIZE = SchedLayout.RunqRecord.SIZE;
    public static final long HEADER = SchedLayout.RunqRecord.HEADER;
    public static final long CPU = SchedLayout.RunqRecord.CPU;
    public static final long PREEMPTED = SchedLayout.RunqRecord.PREEMPTED;

    public static RunQueueRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "runq_record");
        BpfBytes r = BpfBytes.of(record, SIZE);
        return new RunQueueRecord(EventHeader.decode(r), r.u32(CPU), r.u32(PREEMPTED) != 0);
    }
}
