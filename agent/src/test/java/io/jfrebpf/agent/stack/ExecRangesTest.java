package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.os.ProcMaps;
import io.jfrebpf.bpf.StackLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExecRangesTest {
    /** A JVM's maps, out of order: libjvm's text in two mappings, the code cache rwx, the vDSO, the vsyscall page. */
    static final String MAPS = """
            7f1000000000-7f1000200000 r-xp 00001000 08:01 11  /usr/lib/jvm/lib/server/libjvm.so
            7f1000200000-7f1000300000 r-xp 00201000 08:01 11  /usr/lib/jvm/lib/server/libjvm.so
            7f1000300000-7f1000400000 r--p 00301000 08:01 11  /usr/lib/jvm/lib/server/libjvm.so
            7f0000000000-7f0000010000 rwxp 00000000 00:00 0
            7f0000010000-7f0010000000 ---p 00000000 00:00 0
            7f2000028000-7f20001bd000 r-xp 00028000 08:01 22  /usr/lib/x86_64-linux-gnu/libc.so.6
            7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0   [vdso]
            7ffc00000000-7ffc00100000 rw-p 00000000 00:00 0   [stack]
            ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]
            """;

    @Test
    void onlyExecutableMappingsSortedWithTouchingOnesJoined() {
        ExecRanges r = ExecRanges.of(ProcMaps.parse(MAPS), ExecRanges.MAX);
        assertEquals(4, r.count()); // code cache, libjvm (one), libc, vdso; no vsyscall
        assertTrue(r.contains(0x7f0000000000L));
        assertTrue(r.contains(0x7f000000ffffL));
        assertFalse(r.contains(0x7f0000010000L)); // the code cache's reserved, uncommitted part
        assertTrue(r.contains(0x7f1000000000L));
        assertTrue(r.contains(0x7f10001fffffL));
        assertTrue(r.contains(0x7f1000200000L)); // where the two libjvm mappings meet
        assertTrue(r.contains(0x7f10002fffffL));
        assertFalse(r.contains(0x7f1000300000L)); // libjvm's read-only data
        assertFalse(r.contains(0x7f0fffffffffL));
        assertFalse(r.contains(0x7f2000027fffL));
        assertTrue(r.contains(0x7f2000028000L));
        assertFalse(r.contains(0x7f20001bd000L)); // an end is not in its range
        assertTrue(r.contains(0x7ffd00001fffL));
        assertFalse(r.contains(0x7ffc00000100L)); // a stack address
        assertFalse(r.contains(0xffffffffff600000L));
        assertFalse(r.contains(0));
        assertFalse(r.contains(Long.MAX_VALUE));
    }

    @Test
    void pastTheLimitTheClosestNeighboursAreJoinedNothingIsDropped() {
        String text = """
                1000-2000 r-xp 0 00:00 0
                3000-4000 r-xp 0 00:00 0
                100000-101000 r-xp 0 00:00 0
                101800-102000 r-xp 0 00:00 0
                """;
        ExecRanges r = ExecRanges.of(ProcMaps.parse(text), 3);
        assertEquals(3, r.count());
        // the gap of 0x800 bytes is joined, not the one of 0x1000: 1000-4000 keeps its hole at 2000
        assertTrue(r.contains(0x101400L));
        assertFalse(r.contains(0x2800L));
        ExecRanges two = ExecRanges.of(ProcMaps.parse(text), 2);
        assertEquals(2, two.count());
        assertTrue(two.contains(0x2800L)); // then the next closest
        assertFalse(two.contains(0x50000L));
        ExecRanges one = ExecRanges.of(ProcMaps.parse(text), 1);
        assertEquals(1, one.count());
        assertTrue(one.contains(0x2800L));
        assertTrue(one.contains(0x101fffL));
        assertFalse(one.contains(0x102000L));
        assertFalse(one.contains(0xfffL));
    }

    /** Random maps: a lookup answers as a scan of the mappings does, and a merged table holds every one. */
    @Test
    void lookupsAgreeWithAScanOfTheMappings() {
        Random random = new Random(7);
        for (int round = 0; round < 200; round++) {
            StringBuilder text = new StringBuilder();
            List<long[]> exec = new ArrayList<>();
            long at = 0x10000;
            int n = 1 + random.nextInt(40);
            for (int i = 0; i < n; i++) {
                at += random.nextInt(4) * 0x1000L;
                long end = at + (1 + random.nextInt(8)) * 0x1000L;
                boolean x = random.nextBoolean();
                text.append(String.format("%x-%x %s 0 00:00 0%n", at, end, x ? "r-xp" : "rw-p"));
                if (x) {
                    exec.add(new long[] {at, end});
                }
                at = end;
            }
            int max = 1 + random.nextInt(8);
            ExecRanges full = ExecRanges.of(ProcMaps.parse(text.toString()), ExecRanges.MAX);
            ExecRanges merged = ExecRanges.of(ProcMaps.parse(text.toString()), max);
            assertTrue(merged.count() <= max);
            for (long pc = 0x10000 - 0x800; pc < at + 0x2000; pc += 0x800) {
                boolean inMapping = false;
                for (long[] e : exec) {
                    inMapping |= pc >= e[0] && pc < e[1];
                }
                assertEquals(inMapping, full.contains(pc), "pc 0x" + Long.toHexString(pc) + " in\n" + text);
                assertTrue(!inMapping || merged.contains(pc), "merged lost pc 0x" + Long.toHexString(pc));
            }
        }
    }

    @Test
    void encodedAsTheObjectsLayOutStructExecRanges() {
        ExecRanges r = ExecRanges.of(ProcMaps.parse(MAPS), ExecRanges.MAX);
        ByteBuffer b = ByteBuffer.wrap(r.encode()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(StackLayout.ExecRanges.SIZE, b.capacity());
        assertEquals(4, b.getInt((int) StackLayout.ExecRanges.COUNT));
        int first = (int) StackLayout.ExecRanges.RANGES;
        int second = first + (int) StackLayout.ExecRange.SIZE;
        assertEquals(0x7f0000000000L, b.getLong(first + (int) StackLayout.ExecRange.START));
        assertEquals(0x7f0000010000L, b.getLong(first + (int) StackLayout.ExecRange.END));
        assertEquals(0x7f1000000000L, b.getLong(second + (int) StackLayout.ExecRange.START));
        assertEquals(0x7f1000300000L, b.getLong(second + (int) StackLayout.ExecRange.END));
        assertEquals(0, b.getLong(first + 4 * (int) StackLayout.ExecRange.SIZE)); // past the count
    }

    @Test
    void equalRangesAreEqualSoAnUnchangedTableIsNotWrittenAgain() {
        assertEquals(ExecRanges.of(ProcMaps.parse(MAPS), ExecRanges.MAX), ExecRanges.of(ProcMaps.parse(MAPS), ExecRanges.MAX));
        String more = MAPS + "7f3000000000-7f3000001000 r-xp 00000000 08:01 33  /tmp/libnew.so\n";
        assertNotEquals(ExecRanges.of(ProcMaps.parse(MAPS), ExecRanges.MAX), ExecRanges.of(ProcMaps.parse(more), ExecRanges.MAX));
    }
}
