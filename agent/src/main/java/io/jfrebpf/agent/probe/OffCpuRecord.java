package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.bpf.OffcpuLayout;
import java.lang.foreign.MemorySegment;

/** Mirror of {@code struct offcpu_record} (bpf/offcpu.h). */
public record OffCpuRecord(EventHeader header, int state, long[] kernelIps) {
    public static final int KERNEL_MAX = (int) OffcpuLayout.OFFCPU_KERNEL_MAX;
    public static final long SIZE = OffcpuLayout.OffcpuRecord.SIZE;
    public static final long HEADER = OffcpuLayout.OffcpuRecord.HEADER;
    public static final long STATE = OffcpuLayout.OffcpuRecord.STATE;
    public static final long KERNEL_DEPTH = OffcpuLayout.OffcpuRecord.KERNEL_DEPTH;
    public static final long KERNEL_IPS = OffcpuLayout.OffcpuRecord.KERNEL_IPS;

    public static OffCpuRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "offcpu_record");
        BpfBytes r = BpfBytes.of(record, SIZE);
        int depth = Math.min(Math.max(r.u32(KERNEL_DEPTH), 0), KERNEL_MAX);
        return new OffCpuRecord(EventHeader.decode(r), r.u32(STATE), r.u64s(KERNEL_IPS, depth));
    }

    /**
     * The state letter as {@code ps} shows it: R (preempted while runnable), S (sleeping,
     * interruptible), D (uninterruptible: disk, some locks), T/t (stopped/traced), X/Z, I (idle),
     * U (a virtual thread unmounted while it waited), or the raw bits when they are none of these.
     */
    public static String stateName(int state) {
        if (state == 0) {
            return "R";
        }
        if (state == (int) OffcpuLayout.OFFCPU_UNMOUNTED) {
            return "U"; // not a task state: a virtual thread's wait while unmounted (bpf/offcpu.h)
        }
        // TASK_INTERRUPTIBLE 1, TASK_UNINTERRUPTIBLE 2, __TASK_STOPPED 4, __TASK_TRACED 8, EXIT_DEAD 16,
        // EXIT_ZOMBIE 32, TASK_PARKED 64, TASK_DEAD 128, TASK_WAKEKILL 256, TASK_NOLOAD 1024 (idle = D|NOLOAD)
        if ((state & 0x402) == 0x402) {
            return "I";
        }
        if ((state & 1) != 0) {
            return "S";
        }
        if ((state & 2) != 0) {
            return "D";
        }
        if ((state & 4) != 0) {
            return "T";
        }
        if ((state & 8) != 0) {
            return "t";
        }
        if ((state & 16) != 0) {
            return "X";
        }
        if ((state & 32) != 0) {
            return "Z";
        }
        if ((state & 64) != 0) {
            return "P";
        }
        return "0x" + Integer.toHexString(state);
    }
}
