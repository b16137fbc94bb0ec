package io.jfrebpf.agent.jfr;

import java.util.Arrays;

/**
 * Numbers distinct sequences of ints 0, 1, 2... in the order they are first seen, stored one
 * after another in one int array: a method as (class, name, descriptor), a stack trace as its
 * frames. Compact (no object per entry) and allocation-free except when an array grows.
 */
final class IntSequences {
    private int[] data = new int[1024];
    private int used;
    private int[] starts = new int[64];
    private int[] lengths = new int[64];
    private int[] hashes = new int[64];
    private int[] slots = new int[128]; // index + 1, 0 = free
    private int size;

    /** The index of {@code values[0..length)}, numbered now if it is new. */
    int add(int[] values, int length) {
        int h = hash(values, length);
        int mask = slots.length - 1;
        int i = h & mask;
        for (; ; i = (i + 1) & mask) {
            int s = slots[i];
            if (s == 0) {
                break;
            }
            int index = s - 1;
            if (hashes[index] == h && lengths[index] == length
                    && Arrays.equals(data, starts[index], starts[index] + length, values, 0, length)) {
                return index;
            }
        }
        return insert(values, length, h, i);
    }

    /** Numbers a new sequence at the free slot {@code i} (apart from {@link #add}'s look-up, as in ObjectIndex). */
    private int insert(int[] values, int length, int h, int i) {
        if (used + length > data.length) {
            data = Arrays.copyOf(data, Math.max(data.length * 2, used + length));
        }
        if (size == starts.length) {
            starts = Arrays.copyOf(starts, size * 2);
            lengths = Arrays.copyOf(lengths, size * 2);
            hashes = Arrays.copyOf(hashes, size * 2);
        }
        System.arraycopy(values, 0, data, used, length);
        int index = size++;
        starts[index] = used;
        lengths[index] = length;
        hashes[index] = h;
        used += length;
        slots[i] = index + 1;
        if (size * 2 > slots.length) {
            rehash(slots.length * 2);
        }
        return index;
    }

    int size() {
        return size;
    }

    /** How many ints are stored. */
    int ints() {
        return used;
    }

    int start(int index) {
        return starts[index];
    }

    int length(int index) {
        return lengths[index];
    }

    /** The stored ints (read with {@link #start} and {@link #length}). */
    int[] data() {
        return data;
    }

    void clear() {
        Arrays.fill(slots, 0);
        size = 0;
        used = 0;
    }

    private static int hash(int[] values, int length) {
        int h = length;
        for (int i = 0; i < length; i++) {
            h = (h ^ values[i]) * 0x9e3779b1;
        }
        return h ^ (h >>> 15);
    }

    private void rehash(int capacity) {
        slots = LinearProbing.slots(hashes, size, capacity);
    }
}
