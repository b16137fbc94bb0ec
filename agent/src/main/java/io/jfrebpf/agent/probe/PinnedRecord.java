package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.bpf.OffcpuLayout;
import java.lang.foreign.MemorySegment;

/** Mirror of {@code struct pinned_record} (bpf/offcpu.h): a virtual thread that could not unmount. */
public record PinnedRecord(EventHeader header, int reason) {
    public static final long SIZE = OffcpuLayout.PinnedRecord.SIZE;
    public static final long REASON = OffcpuLayout.PinnedRecord.REASON;

    public static PinnedRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "pinned_record");
        BpfBytes r = BpfBytes.of(record, SIZE);
        return new PinnedRecord(EventHeader.decode(r), r.u32(REASON));
    }

    /** HotSpot's freeze_result, as {@code ebpf.VirtualThreadPinned.reason} says it. */
    public static String reasonName(int reason) {
        if (reason == OffcpuLayout.FREEZE_PINNED_NATIVE) {
            return "native frame";
        }
        if (reason == OffcpuLayout.FREEZE_PINNED_CS) {
            return "critical section";
        }
        if (reason == OffcpuLayout.FREEZE_PINNED_MONITOR) {
            return "monitor held";
        }
        if (reason == OffcpuLayout.FREEZE_EXCEPTION) {
            return "exception";
        }
        if (reason == OffcpuLayout.FREEZE_UNSUPPORTED) {
            return "unsupported";
        }
        return "freeze_result " + reason;
    }
}
