package io.jfrebpf.agent.os;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The GNU hash table of a {@code .dynsym} ({@code .gnu.hash}, what the dynamic loader looks names
 * up by): the exported symbols of one name are found by a few reads, not by a pass over the
 * table. Only the candidates are given (the entries whose hash matches); the caller compares
 * their names. The table is read where it is mapped, every read checked against it, so a
 * garbage table gives no candidate rather than an exception or a long walk.
 */
final class GnuHash {
    /** In the host's order, the file's on the (little-endian) hosts this runs on; the layouts the agent reads records with. */
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final MemorySegment table;
    private final int buckets;
    private final int symoffset;
    private final int bloomWords;
    private final int bloomShift;
    /** How many symbols the .dynsym it indexes has: no chain reaches past them. */
    private final int symbols;

    private GnuHash(MemorySegment table, int buckets, int symoffset, int bloomWords, int bloomShift, int symbols) {
        this.table = table;
        this.buckets = buckets;
        this.symoffset = symoffset;
        this.bloomWords = bloomWords;
        this.bloomShift = bloomShift;
        this.symbols = symbols;
    }

    /** The hash table in these bytes for a .dynsym of {@code symbols} entries, or null when its header does not fit them. */
    static GnuHash of(MemorySegment table, int symbols) {
        if (table.byteSize() < 16) {
            return null;
        }
        int buckets = table.get(U32, 0);
        int symoffset = table.get(U32, 4);
        int bloomWords = table.get(U32, 8);
        int bloomShift = table.get(U32, 12);
        long need = 16 + 8L * Integer.toUnsignedLong(bloomWords) + 4L * Integer.toUnsignedLong(buckets);
        if (buckets <= 0 || bloomWords <= 0 || symoffset < 0 || symoffset > symbols || need > table.byteSize()) {
            return null;
        }
        return new GnuHash(table, buckets, symoffset, bloomWords, bloomShift, symbols);
    }

    /** The loader's hash of a name (dl_new_hash). */
    static int hash(byte[] name) {
        int h = 5381;
        for (byte b : name) {
            h = h * 33 + (b & 0xff);
        }
        return h;
    }

    static int hash(String name) {
        return hash(name.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The .dynsym entries that may be called by a name of this hash, in table order, into
     * {@code into}; how many (at most {@code into.length}). None when the bloom filter rules the
     * name out.
     */
    int candidates(int hash, int[] into) {
        long h = Integer.toUnsignedLong(hash);
        long word = table.get(U64, 16 + 8 * ((h / 64) % Integer.toUnsignedLong(bloomWords)));
        long mask = 1L << (h % 64) | 1L << ((h >>> (bloomShift & 31)) % 64);
        if ((word & mask) != mask) {
            return 0;
        }
        long bucketsAt = 16 + 8L * Integer.toUnsignedLong(bloomWords);
        long chainsAt = bucketsAt + 4L * buckets;
        int i = table.get(U32, bucketsAt + 4 * (h % buckets));
        if (i < symoffset || i >= symbols) {
            return 0;
        }
        int n = 0;
        for (; i < symbols && n < into.length; i++) {
            long at = chainsAt + 4L * (i - symoffset);
            if (at + 4 > table.byteSize()) {
                break;
            }
            int chained = table.get(U32, at);
            if ((chained | 1) == (hash | 1)) {
                into[n++] = i;
            }
            if ((chained & 1) != 0) {
                break;
            }
        }
        return n;
    }
}
