package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ExecutableRangesTest {
    private static final String MAPS = """
            55d4c0000000-55d4c0001000 r--p 00000000 fd:01 123 /usr/lib/jvm/bin/java
            55d4c0001000-55d4c0002000 r-xp 00001000 fd:01 123 /usr/lib/jvm/bin/java
            7f0000000000-7f0000100000 rwxp 00000000 00:00 0
            7f0000100000-7f0000200000 rwxp 00000000 00:00 0
            7f1000000000-7f1000400000 r-xp 00000000 fd:01 456 /usr/lib/jvm/lib/server/libjvm.so
            7f1000400000-7f1000500000 r--p 00400000 fd:01 456 /usr/lib/jvm/lib/server/libjvm.so
            7f2000000000-7f2000001000 ---p 00000000 00:00 0
            zzzz-7f3000001000 r-xp 00000000 00:00 0 garbage
            7f3000002000-7f3000001000 r-xp 00000000 00:00 0 [backwards]
            7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
            ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
            7f4000000000-7f4000001000 r-""";

    private static long[] ranges(String text, int max) {
        ExecutableRanges r = new ExecutableRanges();
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        int m = ExecutableRanges.join(r.parsed(), r.parse(b, b.length), max);
        return Arrays.copyOf(r.parsed(), 2 * m);
    }

    @Test
    void onlyExecutableWellFormedLinesTouchingOnesJoined() {
        assertArrayEquals(new long[] {0x55d4c0001000L, 0x55d4c0002000L, 0x7f0000000000L, 0x7f0000200000L, 0x7f1000000000L,
            0x7f1000400000L, 0x7ffd00000000L, 0x7ffd00002000L}, ranges(MAPS, 512));
    }

    @Test
    void pastTheMaximumTheClosestAreMergedIntoASuperset() {
        // gaps: 0x1000 between the first two, 0x100 between the second and third, 0x10000 before the last
        long[] p = {0x1000, 0x2000, 0x3000, 0x4000, 0x4100, 0x5000, 0x15000, 0x16000};
        assertEquals(3, ExecutableRanges.join(p, 4, 3));
        assertArrayEquals(new long[] {0x1000, 0x2000, 0x3000, 0x5000, 0x15000, 0x16000}, Arrays.copyOf(p, 6));
        assertEquals(1, ExecutableRanges.join(p, 3, 1));
        assertArrayEquals(new long[] {0x1000, 0x16000}, Arrays.copyOf(p, 2));
    }

    @Test
    void unsortedAndOverlappingPairsAreSortedAndJoined() {
        long[] p = {0x9000, 0xa000, 0x1000, 0x3000, 0x2000, 0x2800, 0x2fff, 0x4000};
        assertEquals(2, ExecutableRanges.join(p, 4, 512));
        assertArrayEquals(new long[] {0x1000, 0x4000, 0x9000, 0xa000}, Arrays.copyOf(p, 4));
    }

    /** What the BPF side does with the table (bpf/stack.bpf.h, executable()): the same halving search. */
    private static boolean executable(MemorySegment v, long pc) {
        int n = v.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        if (n == 0) {
            return true;
        }
        int lo = 0;
        int hi = n;
        for (int i = 0; i < 10 && lo < hi; i++) {
            int mid = (lo + hi) / 2;
            if (Long.compareUnsigned(v.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 + 8L * ExecutableRanges.MAX + 8L * mid), pc) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < n && Long.compareUnsigned(v.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 + 8L * lo), pc) <= 0;
    }

    @Test
    void theTableAsTheWalkReadsItFindsEveryBoundary() throws Exception {
        ExecutableRanges r = new ExecutableRanges();
        assertTrue(r.reread(), "this process has executable mappings");
        // another thread of this JVM may map code between two reads (seen once in CI): a reread
        // must come back false as soon as two reads see the same maps
        boolean changed = true;
        for (int i = 0; i < 5 && changed; i++) {
            changed = r.reread();
        }
        assertFalse(changed, "five rereads in a row each saw new executable mappings");
        MemorySegment v = Arena.ofAuto().allocate(ExecutableRanges.SIZE, 8);
        r.writeTo(v);
        int n = r.count();
        assertTrue(n > 3 && n <= ExecutableRanges.MAX, "ranges: " + n);
        long previousEnd = 0;
        for (int i = 0; i < n; i++) {
            long s = v.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 + 8L * i);
            long e = v.get(ValueLayout.JAVA_LONG_UNALIGNED, 8 + 8L * ExecutableRanges.MAX + 8L * i);
            assertTrue(s > previousEnd && s < e, "sorted, disjoint, not touching: range " + i);
            assertTrue(executable(v, s) && executable(v, e - 1), "both ends of range " + i);
            assertFalse(executable(v, e) || executable(v, s - 1), "just outside range " + i);
            previousEnd = e;
        }
        assertFalse(executable(v, 0x1000), "the first page");
        // the code of this method is in libjvm's text or the code cache: both executable
        long ownCode = java.lang.foreign.Linker.nativeLinker().defaultLookup().find("memcpy").orElseThrow().address();
        assertTrue(executable(v, ownCode), "libc's memcpy");
        long heapWord = Arena.ofAuto().allocate(64).address();
        assertFalse(executable(v, heapWord), "native memory is not code");
    }
}
