package io.jfrebpf.agent.probe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/** Decoding helpers shared by the record mirrors: sizes checked, strings bounded. */
final class Records {
    private Records() {
    }

    static void requireSize(MemorySegment record, long size, String struct) {
        if (record.byteSize() < size) {
            throw new IllegalArgumentException(struct + " record of " + record.byteSize() + " bytes, expected " + size);
        }
    }

    /** A NUL-terminated string in a fixed field of {@code max} bytes (no NUL: all of it). */
    static String cString(MemorySegment record, long offset, int max) {
        int n = 0;
        while (n < max && record.get(ValueLayout.JAVA_BYTE, offset + n) != 0) {
            n++;
        }
        return string(record, offset, n);
    }

    static String string(MemorySegment record, long offset, int length) {
        byte[] bytes = new byte[length];
        MemorySegment.copy(record, ValueLayout.JAVA_BYTE, offset, bytes, 0, length);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
