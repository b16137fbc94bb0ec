package io.jfrebpf.agent.os;

/**
 * The entries of one symbol table grouped by the first eight bytes of their names (a name's
 * <em>key</em>, {@link #key(long)}): a lookup by name, or by a prefix of eight bytes or more,
 * reads the few entries of one group, not the table. Built by one pass over the table (the
 * caller's, which gives each entry's key) and a counting sort of the entries by the hash of
 * their keys: two short loops over int arrays, no comparison sort, no object per symbol (4 heap
 * bytes an indexed entry, and a bucket of 4 bytes for every four entries of the table: libjvm's
 * .symtab, 70,000 entries, in 340 KB).
 * The groups hold candidates only: the caller compares their names.
 */
final class NameIndex {
    private static final long ONES = 0x0101_0101_0101_0101L;
    private static final long HIGHS = 0x8080_8080_8080_8080L;
    private static final long ATS = 0x4040_4040_4040_4040L;
    /** The bytes of a key. */
    static final int KEY_BYTES = 8;

    /** Where each bucket's entries start in {@link #entries} (one more than there are buckets). */
    private final int[] starts;
    /** The entries with a key, by bucket, in table order within one. */
    private final int[] entries;
    private final int shift;

    private NameIndex(int[] starts, int[] entries, int shift) {
        this.starts = starts;
        this.entries = entries;
        this.shift = shift;
    }

    /**
     * The key of a name from its first eight bytes read as a little-endian long (zeros past
     * the end of the table): the bytes before its end, a NUL or (in a name that does not start
     * with one) the '@' of a version ({@code malloc@GLIBC_2.2.5} is keyed as {@code malloc}).
     * 0 for an empty name. Branch-free: the first NUL byte is the lowest byte that the usual
     * has-zero test flags (it flags false ones only above a true one).
     */
    static long key(long bytes) {
        long stops = stops(bytes, (bytes & 0xff) != '@');
        long first = stops & -stops;
        return first == 0 ? bytes : bytes & ((first >>> 7) - 1);
    }

    /**
     * Of eight bytes read as a little-endian long, the top bit of each NUL byte (and of each '@'
     * when {@code atVersion}) set, and of some bytes above the lowest such: that one, the lowest
     * set bit, is exact.
     */
    static long stops(long bytes, boolean atVersion) {
        long stops = (bytes - ONES) & ~bytes & HIGHS;
        if (atVersion) {
            long ats = bytes ^ ATS;
            stops |= (ats - ONES) & ~ats & HIGHS;
        }
        return stops;
    }

    /** The key a symbol called {@code name} has: its first bytes as {@link #key(long)} cuts them. */
    static long key(byte[] name) {
        return key(head(name));
    }

    /**
     * The key every name that starts with {@code prefix} has, or 0 when they do not share one
     * (a prefix of under eight bytes that a longer name goes on from).
     */
    static long prefixKey(byte[] prefix) {
        int stop = stop(prefix);
        return stop < prefix.length || prefix.length >= KEY_BYTES ? key(head(prefix)) : 0;
    }

    /** The first '@' of a name that does not start with one, else its length. */
    private static int stop(byte[] name) {
        if (name.length > 0 && name[0] != '@') {
            for (int i = 1; i < name.length; i++) {
                if (name[i] == '@') {
                    return i;
                }
            }
        }
        return name.length;
    }

    private static long head(byte[] name) {
        long bytes = 0;
        for (int i = 0; i < Math.min(KEY_BYTES, name.length); i++) {
            bytes |= (name[i] & 0xffL) << (8 * i);
        }
        return bytes;
    }

    /**
     * The shift that gives, through {@link #bucketOf}, the buckets of a table of this many
     * entries: about four entries a bucket, at least two buckets (a shift of 64 would be none).
     */
    static int shiftFor(int entries) {
        return 64 - Math.max(1, 31 - Integer.numberOfLeadingZeros(Math.max(1, entries / 4)));
    }

    /** The bucket of a key (-1 for 0, none) for a shift of {@link #shiftFor}. */
    static int bucketOf(long key, int shift) {
        return key == 0 ? -1 : (int) ((key * 0x9E37_79B9_7F4A_7C15L) >>> shift);
    }

    /**
     * The index of {@code count} entries whose buckets are given ({@link #bucketOf}, -1: the
     * entry is not indexed): a counting sort, stable, so that a bucket's entries are in table
     * order. The caller's pass gives buckets, not keys: 4 bytes an entry while it runs, not 8.
     */
    static NameIndex of(int[] buckets, int count, int shift) {
        int[] starts = new int[(1 << (64 - shift)) + 1];
        int keyed = countBuckets(buckets, count, starts);
        int at = 0;
        for (int b = 0; b < starts.length; b++) {
            int c = starts[b];
            starts[b] = at;
            at += c;
        }
        int[] entries = new int[keyed];
        int[] next = starts.clone();
        scatter(buckets, count, next, entries);
        return new NameIndex(starts, entries, shift);
    }

    /** How many entries each bucket has, into counts; how many have one. */
    private static int countBuckets(int[] buckets, int count, int[] counts) {
        int keyed = 0;
        for (int i = 0; i < count; i++) {
            int b = buckets[i];
            if (b >= 0) {
                counts[b]++;
                keyed++;
            }
        }
        return keyed;
    }

    private static void scatter(int[] buckets, int count, int[] next, int[] entries) {
        for (int i = 0; i < count; i++) {
            int b = buckets[i];
            if (b >= 0) {
                entries[next[b]++] = i;
            }
        }
    }

    /** Where the candidates of a key are in {@link #entry}: [first, end) of {@link #range}. */
    long range(long key) {
        int b = bucketOf(key, shift);
        if (b < 0) {
            return 0;
        }
        return (long) starts[b] << 32 | starts[b + 1];
    }

    /** The i-th entry of the groups. */
    int entry(int i) {
        return entries[i];
    }

    /** Heap bytes held. */
    long bytes() {
        return 16 + 4L * starts.length + 16 + 4L * entries.length;
    }
}
