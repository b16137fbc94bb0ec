package io.jfrebpf.agent.stack;

import java.util.Arrays;

/**
 * A bounded map from what the kernel gave for a stack or a frame — a long, an int and, for kernel
 * frames a record carried itself, their pcs — to what it was named. Open addressing over parallel
 * arrays: no boxed key, no entry object, no allocation on a lookup.
 *
 * <p>Two generations of at most {@code max / 2} entries each: new entries go to the recent one,
 * an entry found in the older one moves to the recent one, and when the recent one is full it
 * becomes the older one and the older one, emptied, the recent one (its arrays reused, no
 * garbage). So an entry used since the last turn survives it, and one unused for two turns is
 * dropped: least recently used, in steps, without a list through the entries. A slot is 20
 * bytes (compressed references) and a table at most half full, so a full cache holds
 * {@code 2 * max} slots: 40 bytes an entry besides the keys' pcs and the values.
 */
final class FrameCache<V> {
    private static final int INITIAL = 32;

    /** One generation. */
    private static final class Table {
        long[] longs;
        int[] ints;
        long[][] arrays;
        Object[] values;
        int size;

        Table(int capacity) {
            longs = new long[capacity];
            ints = new int[capacity];
            arrays = new long[capacity][];
            values = new Object[capacity];
        }

        int slot(long a, int b, long[] c) {
            int mask = values.length - 1;
            int i = hash(a, b, c) & mask;
            while (values[i] != null && !(longs[i] == a && ints[i] == b && Arrays.equals(arrays[i], c))) {
                i = (i + 1) & mask;
            }
            return i;
        }

        /** Keeps value for the key (c not copied), growing while at most half full. */
        void put(long a, int b, long[] c, Object value) {
            if (2 * (size + 1) > values.length) {
                grow();
            }
            int i = slot(a, b, c);
            if (values[i] == null) {
                size++;
            }
            longs[i] = a;
            ints[i] = b;
            arrays[i] = c;
            values[i] = value;
        }

        /**
         * Twice the slots, the entries put again. Apart from {@link #put}: within it, the JIT
         * inlined put (its slot and the key's hash) into itself, for a step taken a few times.
         */
        private void grow() {
            Table bigger = new Table(values.length * 2);
            for (int i = 0; i < values.length; i++) {
                if (values[i] != null) {
                    bigger.put(longs[i], ints[i], arrays[i], values[i]);
                }
            }
            longs = bigger.longs;
            ints = bigger.ints;
            arrays = bigger.arrays;
            values = bigger.values;
        }

        void empty() {
            Arrays.fill(arrays, null);
            Arrays.fill(values, null);
            size = 0;
        }
    }

    private final int generation;
    private Table recent;
    private Table older;

    FrameCache(int max) {
        if (max < 2) {
            throw new IllegalArgumentException("max " + max);
        }
        this.generation = max / 2;
        clear();
    }

    private static int hash(long a, int b, long[] c) {
        long h = (a * 0x9E3779B97F4A7C15L) ^ (b * 0xC2B2AE3D27D4EB4FL) ^ (c == null ? 0 : Arrays.hashCode(c));
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (int) h;
    }

    /** The value of a key, or null; a value found in the older generation moves to the recent one. */
    @SuppressWarnings("unchecked")
    V get(long a, int b, long[] c) {
        int i = recent.slot(a, b, c);
        if (recent.values[i] != null) {
            return (V) recent.values[i];
        }
        int j = older.slot(a, b, c);
        Object v = older.values[j];
        if (v != null) {
            long[] pcs = older.arrays[j];
            turnIfFull();
            recent.put(a, b, pcs, v);
        }
        return (V) v;
    }

    /** Keeps value (not null) for the key; {@code c} is copied. */
    void put(long a, int b, long[] c, V value) {
        if (value == null) {
            throw new IllegalArgumentException("null value");
        }
        int i = recent.slot(a, b, c);
        if (recent.values[i] != null) {
            recent.values[i] = value;
            return;
        }
        turnIfFull();
        recent.put(a, b, c == null ? null : c.clone(), value);
    }

    private void turnIfFull() {
        if (recent.size >= generation) {
            Table t = older;
            older = recent;
            t.empty();
            recent = t;
        }
    }

    /** Forgets everything, and gives back the memory of a full cache. */
    void clear() {
        recent = new Table(INITIAL);
        older = new Table(INITIAL);
    }

    /** Entries held (one in both generations counts twice): at most {@code max}. */
    int size() {
        return recent.size + older.size;
    }
}
