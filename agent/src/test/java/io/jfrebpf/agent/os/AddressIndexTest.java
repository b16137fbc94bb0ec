package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AddressIndexTest {
    record Entry(long address, int payload) {
    }

    /** The index as a plain sort of (unsigned address, payload) would make it, the greatest payload kept at each address. */
    static List<Entry> reference(long[] a, int[] p, int n) {
        List<Entry> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(new Entry(a[i], p[i]));
        }
        all.sort(Comparator.<Entry, Long>comparing(Entry::address, Long::compareUnsigned).thenComparingInt(Entry::payload));
        List<Entry> kept = new ArrayList<>();
        for (Entry e : all) {
            if (!kept.isEmpty() && kept.get(kept.size() - 1).address() == e.address()) {
                kept.set(kept.size() - 1, e);
            } else {
                kept.add(e);
            }
        }
        return kept;
    }

    static List<Entry> entries(AddressIndex index) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < index.size(); i++) {
            out.add(new Entry(index.address(i), index.payload(i)));
        }
        return out;
    }

    static void check(long base, long span, int n, long seed) {
        check(base, span, n, seed, false);
    }

    /**
     * Random addresses of a span, sorted as a plain sort would sort them; the payloads random,
     * or growing in input order (what the callers give: only the addresses' bits are sorted, stably).
     */
    static void check(long base, long span, int n, long seed, boolean ascending) {
        Random r = new Random(seed);
        long[] a = new long[n + 3];
        int[] p = new int[n + 3];
        for (int i = 0; i < n; i++) {
            // duplicates on purpose: a narrow span of a few addresses repeats
            a[i] = base + Math.floorMod(r.nextLong(), span);
            p[i] = ascending ? i - n / 2 : r.nextInt(); // negative payloads too
        }
        List<Entry> expected = reference(a, p, n);
        assertEquals(expected, entries(AddressIndex.of(a, p, n)), () -> "base " + Long.toHexString(base) + " span " + span);
    }

    @Test
    void aLibrarysSpanSortsAsAPlainSortWould() {
        for (long seed = 0; seed < 20; seed++) {
            check(0x7f00_0000_0000L, 30_000_000L, 5_000, seed);
            check(0x7f00_0000_0000L, 50, 2_000, seed); // many entries at one address
        }
    }

    @Test
    void ascendingPayloadsSortAsAPlainSortWould() {
        for (long seed = 0; seed < 20; seed++) {
            check(0x7f00_0000_0000L, 30_000_000L, 5_000, seed, true);
            check(0x7f00_0000_0000L, 50, 2_000, seed, true);
            check(0xffff_ffff_0000_0000L, 0xffff_ffffL, 3_000, seed, true);
            check(0x1000, 1, 100, seed, true); // one address: nothing to sort
        }
    }

    @Test
    void aRadixSortIsStableOnTheBitsItSorts() {
        long[] keys = {0x31, 0x12, 0x23, 0x14, 0x05, 0x16};
        long[] sorted = AddressIndex.radixSort(keys.clone(), new long[keys.length], 4, 8);
        assertEquals(List.of(0x05L, 0x12L, 0x14L, 0x16L, 0x23L, 0x31L), java.util.Arrays.stream(sorted).boxed().toList());
        long[] same = AddressIndex.radixSort(keys.clone(), new long[keys.length], 8, 8);
        assertEquals(java.util.Arrays.stream(keys).boxed().toList(), java.util.Arrays.stream(same).boxed().toList(), "no bits: as given");
    }

    @Test
    void kernelAddressesWithTheTopBitSetSortUnsigned() {
        for (long seed = 0; seed < 20; seed++) {
            check(0xffff_ffff_8000_0000L, 0x7fff_0000L, 5_000, seed);
            check(0xffff_ffff_0000_0000L, 0xffff_ffffL, 3_000, seed); // the widest span packed
        }
    }

    @Test
    void spansOverFourGibibytesSortToo() {
        for (long seed = 0; seed < 20; seed++) {
            check(0, Long.MAX_VALUE, 3_000, seed);
            check(0x7000_0000_0000L, 1L << 40, 3_000, seed);
        }
    }

    @Test
    void theLastPayloadGivenAtAnAddressWinsAmongEqualOnes() {
        long[] a = {0x30, 0x10, 0x20, 0x10, 0x10};
        int[] p = {0, 1, 2, 3, 4};
        AddressIndex index = AddressIndex.of(a, p, 5);
        assertEquals(List.of(new Entry(0x10, 4), new Entry(0x20, 2), new Entry(0x30, 0)), entries(index));
        assertEquals(0, index.floor(0x1f));
        assertEquals(-1, index.floor(0xf));
    }
}
