package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The symbolizer's caches: keys by value (pcs arrays included), bounded, no entry lost while it
 * grows, and what was used lately kept when new keys stream through.
 */
class FrameCacheTest {
    @Test
    void keysAreTheirThreePartsByValue() {
        FrameCache<String> c = new FrameCache<>(100);
        long[] pcs = {1, 2, 3};
        c.put(7, 1, null, "a");
        c.put(7, 2, null, "b");
        c.put(7, 1, pcs, "c");
        c.put(8, 1, null, "d");
        pcs[0] = 99; // the cache kept a copy
        assertEquals("a", c.get(7, 1, null));
        assertEquals("b", c.get(7, 2, null));
        assertEquals("c", c.get(7, 1, new long[] {1, 2, 3}));
        assertNull(c.get(7, 1, new long[] {1, 2}));
        assertNull(c.get(7, 1, pcs));
        assertEquals("d", c.get(8, 1, null));
        c.put(7, 1, null, "e");
        assertEquals("e", c.get(7, 1, null));
        assertEquals(4, c.size());
    }

    @Test
    void itGrowsWithoutLosingTheNewestHalf() {
        FrameCache<Long> c = new FrameCache<>(10_000);
        for (long k = 0; k < 5000; k++) {
            c.put(k * 0x1000, 0, null, k);
        }
        for (long k = 0; k < 5000; k++) {
            assertEquals(k, c.get(k * 0x1000, 0, null), "one generation holds max / 2");
        }
        for (long k = 0; k < 100_000; k++) {
            c.put(k, (int) k, null, k);
            assertTrue(c.size() <= 10_000, "bounded");
        }
        for (long k = 100_000 - 5000; k < 100_000; k++) {
            assertEquals(k, c.get(k, (int) k, null), "the newest max / 2 are there");
        }
    }

    @Test
    void whatIsUsedSurvivesAStreamOfNewKeys() {
        FrameCache<Long> c = new FrameCache<>(1000);
        for (long hot = 0; hot < 50; hot++) {
            c.put(hot, -1, null, hot);
        }
        for (long cold = 0; cold < 100_000; cold++) {
            c.put(cold, 1, null, cold);
            if (cold % 100 == 0) {
                for (long hot = 0; hot < 50; hot++) {
                    assertNotNull(c.get(hot, -1, null), "a key used every 100 puts, after " + cold);
                }
            }
        }
        assertTrue(c.size() <= 1000);
    }

    @Test
    void anEntryUnusedForTwoTurnsIsDropped() {
        FrameCache<Long> c = new FrameCache<>(10); // generations of 5
        c.put(1, 0, null, 1L);
        for (long k = 2; k <= 11; k++) {
            c.put(k, 0, null, k);
        }
        assertNull(c.get(1, 0, null));
        for (long k = 6; k <= 11; k++) {
            assertEquals(k, c.get(k, 0, null));
        }
        c.clear();
        assertEquals(0, c.size());
        assertNull(c.get(11, 0, null));
    }
}
