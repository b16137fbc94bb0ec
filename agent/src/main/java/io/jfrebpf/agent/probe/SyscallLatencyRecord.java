package io.jfrebpf.agent.probe;

import io.jfrebpf.bpf.SyscallLatencyLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Mirror of {@code struct syscall_latency_record} (bpf/syscall_latency.h). */
public record SyscallLatencyRecord(EventHeader header, long result, int number) {
    public static final long SIZE = SyscallLatencyLayout.SyscallLatencyRecord.SIZE;
    public static final long HEADER = SyscallLatencyLayout.SyscallLatencyRecord.HEADER;
    public static final long RESULT = SyscallLatencyLayout.SyscallLatencyRecord.RESULT;
    public static final long NUMBER = SyscallLatencyLayout.SyscallLatencyRecord.NUMBER;

    public static SyscallLatencyRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "syscall_latency_record");
        return new SyscallLatencyRecord(EventHeader.decode(record), record.get(ValueLayout.JAVA_LONG_UNALIGNED, RESULT),
                record.get(ValueLayout.JAVA_INT_UNALIGNED, NUMBER));
    }
}
