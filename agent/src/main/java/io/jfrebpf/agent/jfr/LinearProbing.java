package io.jfrebpf.agent.jfr;

/**
 * The slot table of the open-addressing indexes ({@link IntSequences}, {@link ObjectIndex}): a
 * power-of-two array where a slot holds 1 + the index of the entry whose hash led there by linear
 * probing, 0 when free. The indexes keep their entries' hashes, so growing the table needs no
 * entry itself.
 */
final class LinearProbing {
    private LinearProbing() {
    }

    /** A table of {@code capacity} slots (a power of two) for the first {@code size} entries of these hashes. */
    static int[] slots(int[] hashes, int size, int capacity) {
        int[] table = new int[capacity];
        int mask = capacity - 1;
        for (int index = 0; index < size; index++) {
            int i = hashes[index] & mask;
            while (table[i] != 0) {
                i = (i + 1) & mask;
            }
            table[i] = index + 1;
        }
        return table;
    }
}
