package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.bpf.CommonLayout;
import java.lang.foreign.MemorySegment;

/**
 * Mirror of {@code struct event_header} (bpf/common.h): what every record starts with.
 * {@code javaThreadId}: the Java thread mounted on {@code tid} at the event (a virtual thread's
 * while one is mounted, else the platform thread's own), 0 when unknown (bpf/mounted.bpf.h).
 */
public record EventHeader(long timestampNs, long durationNs, int pid, int tid, long userStack, int kernelStackId,
        String comm, long javaThreadId) {
    public static final long SIZE = CommonLayout.EventHeader.SIZE;
    public static final long TIMESTAMP_NS = CommonLayout.EventHeader.TIMESTAMP_NS;
    public static final long DURATION_NS = CommonLayout.EventHeader.DURATION_NS;
    public static final long PID = CommonLayout.EventHeader.PID;
    public static final long TID = CommonLayout.EventHeader.TID;
    public static final long USER_STACK = CommonLayout.EventHeader.USER_STACK;
    public static final long KERNEL_STACK_ID = CommonLayout.EventHeader.KERNEL_STACK_ID;
    public static final long COMM = CommonLayout.EventHeader.COMM;
    public static final long JAVA_THREAD_ID = CommonLayout.EventHeader.JAVA_THREAD_ID;
    public static final int TASK_COMM_LEN = (int) CommonLayout.TASK_COMM_LEN;
    public static final int NO_STACK = (int) CommonLayout.NO_STACK;
    public static final long NO_USER_STACK = CommonLayout.NO_USER_STACK;

    /** Decodes the header at the start of a record. */
    public static EventHeader decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "event_header");
        return decode(BpfBytes.of(record, SIZE));
    }

    /** The header at the start of a record's bytes, whose size the caller checked. */
    public static EventHeader decode(BpfBytes r) {
        return new EventHeader(r.u64(TIMESTAMP_NS), r.u64(DURATION_NS), r.u32(PID), r.u32(TID), r.u64(USER_STACK),
                r.u32(KERNEL_STACK_ID), r.cString(COMM, TASK_COMM_LEN), r.u64(JAVA_THREAD_ID));
    }
}
