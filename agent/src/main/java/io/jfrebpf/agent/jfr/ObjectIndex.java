package io.jfrebpf.agent.jfr;

import java.util.Arrays;

/**
 * Numbers distinct objects 0, 1, 2... in the order they are first seen: an open-addressing
 * table of int slots over a dense array of the objects, compared by {@code equals} or by
 * identity. A look-up allocates nothing (strings cache their hash); only growing does.
 */
final class ObjectIndex<K> {
    private final boolean identity;
    private Object[] keys = new Object[16];
    private int[] hashes = new int[16];
    private int[] slots = new int[32]; // index + 1, 0 = free
    private int size;

    ObjectIndex(boolean identity) {
        this.identity = identity;
    }

    /** The index of {@code key}, or -1. */
    int find(K key) {
        int h = hash(key);
        int mask = slots.length - 1;
        for (int i = h & mask; ; i = (i + 1) & mask) {
            int s = slots[i];
            if (s == 0) {
                return -1;
            }
            int index = s - 1;
            if (hashes[index] == h && same(keys[index], key)) {
                return index;
            }
        }
    }

    /** The index of {@code key}, numbered now if it is new. */
    int add(K key) {
        int h = hash(key);
        int mask = slots.length - 1;
        int i = h & mask;
        for (; ; i = (i + 1) & mask) {
            int s = slots[i];
            if (s == 0) {
                break;
            }
            int index = s - 1;
            if (hashes[index] == h && same(keys[index], key)) {
                return index;
            }
        }
        return insert(key, h, i);
    }

    /**
     * Numbers a new key at the free slot {@code i}: apart from {@link #add}, whose look-up the
     * JIT inlines into each caller (a pooled string per event field) without this rarer part.
     */
    private int insert(K key, int h, int i) {
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, size * 2);
            hashes = Arrays.copyOf(hashes, size * 2);
        }
        int index = size++;
        keys[index] = key;
        hashes[index] = h;
        slots[i] = index + 1;
        if (size * 2 > slots.length) {
            rehash(slots.length * 2);
        }
        return index;
    }

    @SuppressWarnings("unchecked")
    K get(int index) {
        return (K) keys[index];
    }

    int size() {
        return size;
    }

    /** Forgets every object; keeps the arrays for the next chunk. */
    void clear() {
        Arrays.fill(keys, 0, size, null);
        Arrays.fill(slots, 0);
        size = 0;
    }

    private boolean same(Object stored, K key) {
        return stored == key || !identity && stored.equals(key);
    }

    private int hash(K key) {
        int h = identity ? System.identityHashCode(key) : key.hashCode();
        h *= 0x9e3779b1;
        return h ^ (h >>> 15);
    }

    private void rehash(int capacity) {
        slots = LinearProbing.slots(hashes, size, capacity);
    }
}
