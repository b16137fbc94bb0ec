package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NameIndexTest {
    /** The first eight bytes of a name as they lie in a string table (NUL-terminated, zeros after the table). */
    static long table(String s) {
        byte[] b = (s + "\0").getBytes(StandardCharsets.UTF_8);
        long v = 0;
        for (int i = 0; i < Math.min(8, b.length); i++) {
            v |= (b[i] & 0xffL) << (8 * i);
        }
        return v;
    }

    static long bytes(String s) {
        return table(s.length() >= 8 ? s.substring(0, 8) : s);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aNamesKeyEndsAtItsNulOrItsVersion() {
        assertEquals(bytes("malloc"), NameIndex.key(table("malloc")));
        assertEquals(bytes("malloc"), NameIndex.key(table("malloc@GLIBC_2.2.5")), "the version cut");
        assertEquals(bytes("malloc"), NameIndex.key(table("malloc@@GLIBC_2.2.5")));
        assertEquals(bytes("@odd@nam"), NameIndex.key(table("@odd@name")), "a name that starts with @ is kept whole");
        assertEquals(bytes("_ZN12Stu"), NameIndex.key(table("_ZN12StubRoutines")), "eight bytes at most");
        assertEquals(bytes("a"), NameIndex.key(table("a")));
        assertEquals(0, NameIndex.key(table("")), "an empty name has none");
        // the has-zero test flags false bytes above a true NUL: the key ends at the first
        assertEquals(bytes("\u0001"), NameIndex.key(0x0101_0101_0100_0101L & 0xFFFF_FF00_FFFF_00FFL));
        assertEquals(0x41L, NameIndex.key(0x0100_0141L & 0xFFFF_FF00_FFFF_00FFL));
        assertEquals(0xFFFF_FFFF_FFFF_FFFFL, NameIndex.key(-1L), "eight bytes of 0xff");
        assertEquals(0x80L, NameIndex.key(0x0080L), "a byte with its top bit set is no NUL");
    }

    @Test
    void aLookedUpNameHasTheKeyOfTheSymbolsCalledSo() {
        for (String name : List.of("malloc", "m", "SafeFetchN_impl", "_ZN12StubRoutines", "@odd", "@odd@name", "a@b", "12345678")) {
            assertEquals(NameIndex.key(table(name)), NameIndex.key(utf8(name)), name);
            if (name.charAt(0) != '@') {
                assertEquals(NameIndex.key(table(name + "@V1")), NameIndex.key(utf8(name)), name + " versioned");
            }
        }
        assertNotEquals(NameIndex.key(table("@odd@name")), NameIndex.key(utf8("@odd")));
    }

    @Test
    void aPrefixHasAKeyOnlyWhenEveryNameItStartsHasIt() {
        assertEquals(NameIndex.key(table("_ZN12StubRoutines3x86")), NameIndex.prefixKey(utf8("_ZN12StubRoutines")));
        assertEquals(NameIndex.key(table("_Z4thawI6ConfigXZ")), NameIndex.prefixKey(utf8("_Z4thawI6Config")));
        assertEquals(NameIndex.key(table("12345678")), NameIndex.prefixKey(utf8("12345678")), "exactly eight");
        assertEquals(NameIndex.key(table("ab@GLIBC")), NameIndex.prefixKey(utf8("ab@G")), "up to a version");
        assertEquals(0, NameIndex.prefixKey(utf8("cou")), "counter, count and coupon have keys of their own");
        assertEquals(0, NameIndex.prefixKey(utf8("1234567")));
        assertEquals(0, NameIndex.prefixKey(utf8("")));
    }

    @Test
    void theEntriesOfAKeyAreFoundInTableOrderAmongFewOthers() {
        Random r = new Random(1);
        int n = 50_000;
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = i % 7 == 0 ? 0 : NameIndex.key(table("f" + r.nextInt(20_000)));
        }
        int shift = NameIndex.shiftFor(n);
        int[] buckets = new int[n];
        for (int i = 0; i < n; i++) {
            buckets[i] = NameIndex.bucketOf(keys[i], shift);
        }
        NameIndex index = NameIndex.of(buckets, n, shift);
        int keyed = 0;
        int largest = 0;
        for (int i = 0; i < n; i++) {
            if (keys[i] == 0) {
                continue;
            }
            keyed++;
            long range = index.range(keys[i]);
            List<Integer> same = new ArrayList<>();
            for (int e = (int) (range >>> 32); e < (int) range; e++) {
                if (keys[index.entry(e)] == keys[i]) {
                    same.add(index.entry(e));
                }
            }
            largest = Math.max(largest, (int) range - (int) (range >>> 32));
            List<Integer> expected = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                if (keys[j] == keys[i]) {
                    expected.add(j);
                }
            }
            assertEquals(expected, same, "entries keyed as " + i + "'s");
            i += 97; // a sample: the check above is quadratic
        }
        assertEquals(0, NameIndex.key(0));
        assertEquals(-1, NameIndex.bucketOf(0, shift), "keyless entries are not indexed");
        assertEquals(0, index.range(0), "and no key finds them");
        assertEquals(true, keyed > 400 && largest < 64, "groups of a few: " + largest);
        assertEquals(16 + 4L * ((1 << 13) + 1) + 16 + 4L * (n - (n + 6) / 7), index.bytes());
    }
}
