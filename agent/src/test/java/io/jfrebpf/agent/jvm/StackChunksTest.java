package io.jfrebpf.agent.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The oop decodings of bpf/stack_chunk.bpf.h's chunk_oop, mirrored by StackChunks (checked on this JVM's chunks at start). */
class StackChunksTest {
    static final long ADDRESS = 0x40002be1270L; // a ZGC heap address: heap base bit 42, 8-byte aligned
    static final long MARKS = 0x0550L;         // remembered, marked young and old bits of a store-good pointer

    @Test
    void aZgcPointerIsItsAddressShiftedPastTheRemappedBitItCarries() {
        for (int remapped = 0; remapped < 4; remapped++) {
            long colored = (ADDRESS << (13 + remapped)) | (1L << (12 + remapped)) | MARKS;
            assertEquals(ADDRESS, StackChunks.decodeZgc(colored), "Remapped bit " + remapped);
        }
    }

    @Test
    void aZgcNullIsNullColoredOrNotAndAPointerWithoutOneRemappedBitIsNotReadable() {
        assertEquals(0, StackChunks.decodeZgc(0));
        assertEquals(0, StackChunks.decodeZgc((1L << 15) | MARKS));
        assertEquals(1, StackChunks.decodeZgc((ADDRESS << 16) | MARKS));
        assertEquals(1, StackChunks.decodeZgc((ADDRESS << 16) | (3L << 12) | MARKS));
    }

    @Test
    void aNarrowOopIsTheHeapBasePlusItsValueShifted() {
        assertEquals(0x69e568578L, StackChunks.decodeNarrow(0, 3, (int) (0x69e568578L >>> 3)));
        assertEquals(0x7f0000000000L + (0xfffffff0L << 3), StackChunks.decodeNarrow(0x7f0000000000L, 3, 0xfffffff0));
        assertEquals(0x800000010L, StackChunks.decodeNarrow(0x800000000L, 0, 0x10));
    }
}
