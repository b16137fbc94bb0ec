package io.jfrebpf.agent.jfr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The byte forms the JDK's and JMC's parsers read (their end-to-end reading is in ChunkRoundTripTest). */
class EventEncoderTest {
    @Test
    void varintsAreLeb128WithAFullNinthByte() {
        assertArrayEquals(bytes(0x00), encode(0));
        assertArrayEquals(bytes(0x7f), encode(127));
        assertArrayEquals(bytes(0x80, 0x01), encode(128));
        assertArrayEquals(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), encode(-1L));
        EventEncoder e = new EventEncoder();
        e.varInt(-1);
        assertArrayEquals(bytes(0xff, 0xff, 0xff, 0xff, 0x0f), e.toByteArray(), "an int is its unsigned 32 bits");
    }

    @Test
    void eventSizeIsAPaddedVarintCountingItself() {
        EventEncoder e = new EventEncoder();
        e.beginEvent(300);
        e.string("é");
        e.string(null);
        e.string("");
        e.endEvent();
        byte[] b = e.toByteArray();
        assertEquals(4 + 2 + 4 + 1 + 1, b.length);
        assertArrayEquals(bytes(0x80 | b.length, 0x80, 0x80, 0x00, 0xac, 0x02, 3, 2, 0xc3, 0xa9, 0, 1), b);
    }

    @Test
    void anAbandonedEventLeavesNothing() {
        EventEncoder e = new EventEncoder();
        e.beginEvent(1);
        e.varLong(5);
        e.abandonEvent();
        assertEquals(0, e.size());
    }

    private static byte[] encode(long v) {
        EventEncoder e = new EventEncoder();
        e.varLong(v);
        return e.toByteArray();
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
