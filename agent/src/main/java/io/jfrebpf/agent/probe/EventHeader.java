package io.jfrebpf.agent.probe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Mirror of {@code struct event_header} (bpf/common.h): what every record starts with. */
public record EventHeader(long timestampNs, long durationNs, int pid, int tid, long userStack, int kernelStackId,
        String comm) {
    public static final long SIZE = 56;
    public static final long TIMESTAMP_NS = 0;
    public static final long DURATION_NS = 8;
    public static final long PID = 16;
    public static final long TID = 20;
    public static final long USER_STACK = 24;
    public static final long KERNEL_STACK_ID = 32;
    public static final long COMM = 40;
    public static final int TASK_COMM_LEN = 16;
    public static final int NO_STACK = -1;
    public static final long NO_USER_STACK = 0;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    /** Decodes the header at the start of a record. */
    public static EventHeader decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "event_header");
        return new EventHeader(record.get(U64, TIMESTAMP_NS), record.get(U64, DURATION_NS), record.get(U32, PID),
                record.get(U32, TID), record.get(U64, USER_STACK), record.get(U32, KERNEL_STACK_ID),
                Records.cString(record, COMM, TASK_COMM_LEN));
    }
}
