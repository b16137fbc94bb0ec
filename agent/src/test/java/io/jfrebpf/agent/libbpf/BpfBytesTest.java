package io.jfrebpf.agent.libbpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BpfBytesTest {
    @Test
    void readsWhatTheSegmentGettersRead() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            byte[] bytes = new byte[64];
            random.nextBytes(bytes);
            MemorySegment s = MemorySegment.ofArray(bytes);
            BpfBytes r = BpfBytes.of(s);
            for (int offset = 0; offset + 8 <= 64; offset++) {
                assertEquals(s.get(ValueLayout.JAVA_LONG_UNALIGNED, offset), r.u64(offset), "u64 at " + offset);
                assertEquals(s.get(ValueLayout.JAVA_INT_UNALIGNED, offset), r.u32(offset), "u32 at " + offset);
            }
            long[] longs = new long[3];
            MemorySegment.copy(s, ValueLayout.JAVA_LONG_UNALIGNED, 5, longs, 0, 3);
            assertArrayEquals(longs, r.u64s(5, 3));
        }
    }

    @Test
    void stringsStopAtTheirNulOrTheirField() {
        byte[] bytes = new byte[24];
        byte[] text = "handler-é".getBytes(StandardCharsets.UTF_8);
        System.arraycopy(text, 0, bytes, 4, text.length);
        BpfBytes r = BpfBytes.of(MemorySegment.ofArray(bytes));
        assertEquals("handler-é", r.cString(4, 16));
        assertEquals("hand", r.cString(4, 4));
        assertEquals("hand", r.string(4, 4));
    }

    @Test
    void aCopyIsBoundedAndAReadPastItsEndThrows() {
        BpfBytes r = BpfBytes.of(MemorySegment.ofArray(new byte[100]), 16);
        assertEquals(16, r.size());
        assertThrows(IndexOutOfBoundsException.class, () -> r.u64(12));
    }
}
