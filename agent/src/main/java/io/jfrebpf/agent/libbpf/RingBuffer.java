package io.jfrebpf.agent.libbpf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One BPF ring buffer ({@code BPF_MAP_TYPE_RINGBUF}) read in place, as the kernel lays it out
 * for a consumer that maps it (kernel/bpf/ringbuf.c; libbpf's ringbuf.c reads it the same way):
 * the consumer position on a page of its own that the consumer writes, the producer position on
 * the next page, then the data area, mapped twice in a row so that a record running past its
 * end reads on in one piece. Each record is an 8-byte header (its length, with a busy bit while
 * the producer still writes it and a discard bit for one it gave up) and its bytes, 8-aligned.
 * The positions only grow; a position's offset in the data area is the position masked.
 *
 * <p>The order of reads and writes is the protocol's: the producer position and each header are
 * read with acquire semantics (the record's bytes are written before its header says it is
 * done), the consumer position is written with release semantics after the record was handled
 * (the producer reuses the bytes once it sees the position move).
 */
final class RingBuffer {
    static final int HEADER_BYTES = 8;
    static final int BUSY = 1 << 31;
    static final int DISCARD = 1 << 30;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final String name;
    private final MemorySegment consumer;
    private final MemorySegment producer;
    private final MemorySegment data;
    private final long mask;
    private final RingBufferPoller.RecordHandler handler;

    /**
     * {@code data} is the data area mapped twice ({@code 2 * size} bytes), {@code size} a power of
     * two; {@code consumer} and {@code producer} hold the positions at their offset 0.
     */
    RingBuffer(String name, MemorySegment consumer, MemorySegment producer, MemorySegment data, long size,
            RingBufferPoller.RecordHandler handler) {
        if (Long.bitCount(size) != 1 || data.byteSize() < 2 * size) {
            throw new IllegalArgumentException(name + ": a ring of " + size + " bytes over " + data.byteSize());
        }
        this.name = name;
        this.consumer = consumer;
        this.producer = producer;
        this.data = data;
        this.mask = size - 1;
        this.handler = handler;
    }

    /**
     * Hands every committed record to the handler, in order, and moves the consumer position past
     * each once it was handled; stops at the first record still being written. Returns how many
     * records were handled (discarded ones are skipped, not counted). The handler's exceptions
     * are its own to catch: one thrown here leaves the record unconsumed.
     */
    int drain() {
        long cons = (long) LONG.getAcquire(consumer, 0L);
        int handled = 0;
        boolean progressed;
        do {
            progressed = false;
            long prod = (long) LONG.getAcquire(producer, 0L);
            while (cons < prod) {
                long at = cons & mask;
                int header = (int) INT.getAcquire(data, at);
                if ((header & BUSY) != 0) {
                    return handled;
                }
                long length = header & ~(BUSY | DISCARD);
                if (length > mask + 1 - HEADER_BYTES) {
                    throw new IllegalStateException(name + ": a record of " + length + " bytes in a ring of " + (mask + 1));
                }
                progressed = true;
                if ((header & DISCARD) == 0) {
                    handler.onRecord(data.asSlice(at + HEADER_BYTES, length));
                    handled++;
                }
                cons += (length + HEADER_BYTES + 7) & ~7L;
                LONG.setRelease(consumer, 0L, cons);
            }
        } while (progressed);
        return handled;
    }
}
