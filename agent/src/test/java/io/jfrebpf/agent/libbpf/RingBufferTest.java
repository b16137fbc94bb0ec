package io.jfrebpf.agent.libbpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ring protocol against rings laid out as the kernel lays them out (positions, 8-byte
 * headers with busy and discard bits, the data area twice in a row); the kernel's own rings are
 * read by every probe's integration test.
 */
class RingBufferTest {
    private static final long SIZE = 256;

    /** A producer writing as the kernel does: header, bytes, 8-aligned, into both copies of the data area. */
    private static final class Producer {
        final MemorySegment consumer;
        final MemorySegment producer;
        final MemorySegment data;
        long pos;

        Producer(Arena arena) {
            consumer = arena.allocate(8, 8);
            producer = arena.allocate(8, 8);
            data = arena.allocate(2 * SIZE, 8);
        }

        /** Reserves and writes a record of {@code length} bytes filled with {@code fill}; returns its position. */
        long write(int length, int fill, int flags) {
            long at = pos;
            put(at, header(length | flags));
            for (int i = 0; i < length; i++) {
                put(at + RingBuffer.HEADER_BYTES + i, (byte) fill);
            }
            pos += (length + RingBuffer.HEADER_BYTES + 7) & ~7L;
            producer.set(ValueLayout.JAVA_LONG, 0, pos);
            return at;
        }

        void commit(long at, int length) {
            put(at, header(length));
        }

        private static byte[] header(int value) {
            return new byte[] {(byte) value, (byte) (value >> 8), (byte) (value >> 16), (byte) (value >> 24), 0, 0, 0, 0};
        }

        private void put(long position, byte[] bytes) {
            for (int i = 0; i < bytes.length; i++) {
                put(position + i, bytes[i]);
            }
        }

        private void put(long position, byte b) {
            long off = position & (SIZE - 1);
            data.set(ValueLayout.JAVA_BYTE, off, b);
            data.set(ValueLayout.JAVA_BYTE, off + SIZE, b); // the second mapping of the same page
        }

        long consumed() {
            return consumer.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    private static String bytes(MemorySegment record) {
        StringBuilder b = new StringBuilder();
        for (long i = 0; i < record.byteSize(); i++) {
            b.append((char) record.get(ValueLayout.JAVA_BYTE, i));
        }
        return b.toString();
    }

    @Test
    void recordsComeInOrderAcrossTheEndOfTheDataAreaAndDiscardedOnesAreSkipped() {
        try (Arena arena = Arena.ofConfined()) {
            Producer p = new Producer(arena);
            List<String> seen = new ArrayList<>();
            RingBuffer ring = new RingBuffer("test", p.consumer, p.producer, p.data, SIZE, r -> seen.add(bytes(r)));
            List<String> expected = new ArrayList<>();
            int n = 0;
            // ~40 laps of the 256-byte area with records of 1-61 bytes: many run past its end
            for (int round = 0; round < 400; round++) {
                for (int k = 0; k < 3; k++, n++) {
                    int length = 1 + (n * 7) % 61;
                    char fill = (char) ('a' + n % 26);
                    boolean discard = n % 5 == 4;
                    p.write(length, fill, discard ? RingBuffer.DISCARD : 0);
                    if (!discard) {
                        expected.add(String.valueOf(fill).repeat(length));
                    }
                }
                ring.drain();
                assertEquals(p.pos, p.consumed(), "everything committed is consumed");
            }
            assertEquals(expected, seen);
        }
    }

    @Test
    void aRecordStillBeingWrittenStopsTheDrainUntilItIsCommitted() {
        try (Arena arena = Arena.ofConfined()) {
            Producer p = new Producer(arena);
            List<String> seen = new ArrayList<>();
            RingBuffer ring = new RingBuffer("test", p.consumer, p.producer, p.data, SIZE, r -> seen.add(bytes(r)));
            p.write(3, 'x', 0);
            long busy = p.write(5, 'y', RingBuffer.BUSY);
            p.write(2, 'z', 0);
            assertEquals(1, ring.drain());
            assertEquals(List.of("xxx"), seen);
            assertEquals(busy, p.consumed(), "the consumer stops at the busy record");
            assertEquals(0, ring.drain());
            p.commit(busy, 5);
            assertEquals(2, ring.drain());
            assertEquals(List.of("xxx", "yyyyy", "zz"), seen);
            assertEquals(p.pos, p.consumed());
        }
    }

    @Test
    void aHeaderLongerThanTheRingIsAnErrorNotARead() {
        try (Arena arena = Arena.ofConfined()) {
            Producer p = new Producer(arena);
            RingBuffer ring = new RingBuffer("test", p.consumer, p.producer, p.data, SIZE, r -> { });
            p.put(0, Producer.header((int) SIZE));
            p.pos = 8;
            p.producer.set(ValueLayout.JAVA_LONG, 0, 8);
            IllegalStateException e = assertThrows(IllegalStateException.class, ring::drain);
            assertEquals("test: a record of 256 bytes in a ring of 256", e.getMessage());
            assertEquals(0, p.consumed());
        }
    }
}
