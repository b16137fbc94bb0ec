package io.jfrebpf.agent.os;

/**
 * The entries of one symbol table grouped by the first eight bytes of their names (a name's
 * <em>key</em>, {@link #key(long)}): a lookup by name, or by a prefix of eight bytes or more,
 * reads the few entries of one group, not the table. Built by one pass over the table (the
 * caller's, which gives each entry's key) and a counting sort of the entries by the hash of
 * their keys: two short loops over int arrays, no comparison sort, no object per symbol (4 heap
 * bytes an entry and 1 a bucket: libjvm's .symtab, 68,000 named functions and data, in 340 KB).
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
     * The index of {@code count} entries whose keys are given (0: the entry is not indexed).
     * The keys are not kept.
     */
    static NameIndex of(long[] keys, int count) {
        int keyed = 0;
        for (int i = 0; i < count; i++) {
            if (keys[i] != 0) {
                keyed++;
            }
        }
        // about four entries a bucket, at least two buckets (a shift of 64 would be none)
        int bits = Math.max(1, 31 - Integer.numberOfLeadingZeros(Math.max(1, keyed / 4)));
        int shift = 64 - bits;
        int[] starts = new int[(1 << bits) + 1];
        int[] buckets = new int[count];
        countBuckets(keys, count, shift, buckets, starts);
        int at = 0;
        for (int b = 0; b < starts.length; b++) {
            int c = starts[b];
            starts[b] = at;
            at += c;
        }
        int[] entries = new int[keyed];
        int[] next = starts.clone();
        for (int i = 0; i < count; i++) {
            int b = buckets[i];
            if (b >= 0) {
                entries[next[b]++] = i;
            }
        }
        return new NameIndex(starts, entries, shift);
    }

    /** Each keyed entry's bucket (-1 for none) into buckets, and how many each bucket has into counts. */
    private static void countBuckets(long[] keys, int count, int shift, int[] buckets, int[] counts) {
        for (int i = 0; i < count; i++) {
            long k = keys[i];
            int b = k == 0 ? -1 : bucket(k, shift);
            buckets[i] = b;
            if (b >= 0) {
                counts[b]++;
            }
        }
    }

    private static int bucket(long key, int shift) {
        return (int) ((key * 0x9E37_79B9_7F4A_7C15L) >>> shift);
    }

    /** Where the candidates of a key are in {@link #entry}: [first, end) of {@link #range}. */
    long range(long key) {
        int b = bucket(key, shift);
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
