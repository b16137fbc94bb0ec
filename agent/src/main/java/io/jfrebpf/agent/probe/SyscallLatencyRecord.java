package io.jfrebpf.agent.probe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Mirror of {@code struct syscall_latency_record} (bpf/syscall_latency.h). */
public record SyscallLatencyRecord(EventHeader header, long result, int number) {
    public static final long SIZE = 72;
    public static final long HEADER = 0;
    public static final long RESULT = 56;
    public static final long NUMBER = 64;

    public static SyscallLatencyRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "syscall_latency_record");
        return new SyscallLatencyRecord(EventHeader.decode(record), record.get(ValueLayout.JAVA_LONG_UNALIGNED, RESULT),
                record.get(ValueLayout.JAVA_INT_UNALIGNED, NUMBER));
    }
}
