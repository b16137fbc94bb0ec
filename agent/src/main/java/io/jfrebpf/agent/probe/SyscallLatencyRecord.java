package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.bpf.SyscallLatencyLayout;
import java.lang.foreign.MemorySegment;

/** Mirror of {@code struct syscall_latency_record} (bpf/syscall_latency.h). */
public record SyscallLatencyRecord(EventHeader header, long result, int number) {
    public static final long SIZE = SyscallLatencyLayout.SyscallLatencyRecord.SIZE;
    public static final long HEADER = SyscallLatencyLayout.SyscallLatencyRecord.HEADER;
    public static final long RESULT = SyscallLatencyLayout.SyscallLatencyRecord.RESULT;
    public static final long NUMBER = SyscallLatencyLayout.SyscallLatencyRecord.NUMBER;

    public static SyscallLatencyRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "syscall_latency_record");
        BpfBytes r = BpfBytes.of(record, SIZE);
        return new SyscallLatencyRecord(EventHeader.decode(r), r.u64(RESULT), r.u32(NUMBER));
    }
}
