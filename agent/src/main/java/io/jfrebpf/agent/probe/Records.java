package io.jfrebpf.agent.probe;

import java.lang.foreign.MemorySegment;

/** What the record mirrors check before they decode (the reading itself: {@link BpfBytes}). */
final class Records {
    private Records() {
    }

    static void requireSize(MemorySegment record, long size, String struct) {
        if (record.byteSize() < size) {
            throw new IllegalArgumentException(struct + " record of " + record.byteSize() + " bytes, expected " + size);
        }
    }
}
