package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The loader's hash of a name, and a header that does not fit its table. (Lookups: ElfFileTest, against readelf, on libc.) */
class GnuHashTest {
    @Test
    void theHashOfTheDynamicLoader() {
        // values dl_new_hash gives (glibc's dl-hash.h)
        assertEquals(0x00001505, GnuHash.hash(""));
        assertEquals(0x156b2bb8, GnuHash.hash("printf"));
        assertEquals(0x7c967e3f, GnuHash.hash("exit"));
        assertEquals(0xbac212a0, GnuHash.hash("syscall"));
    }

    @Test
    void aHeaderPastItsTableIsNoTable() {
        assertNull(GnuHash.of(MemorySegment.ofArray(new byte[8]), 10), "shorter than a header");
        byte[] header = new byte[16];
        header[0] = 100; // 100 buckets, 1 bloom word: 16 + 8 + 400 bytes needed
        header[8] = 1;
        assertNull(GnuHash.of(MemorySegment.ofArray(header), 10));
        byte[] table = java.util.Arrays.copyOf(header, 424);
        table[4] = 11; // the first hashed symbol past the 10 of the table
        assertNull(GnuHash.of(MemorySegment.ofArray(table), 10));
        table[4] = 1;
        assertEquals(0, GnuHash.of(MemorySegment.ofArray(table), 10).candidates(GnuHash.hash("exit"), new int[4]), "an empty bloom filter");
        assertNull(GnuHash.of(MemorySegment.ofArray(new byte[424]), 10), "no buckets");
    }
}
