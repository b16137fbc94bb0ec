package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcMapsTest {
    /** The format as proc(5) describes it, split the plain way: whitespace-separated, the path the rest of the line. */
    static List<ProcMaps.Mapping> reference(String text) {
        List<ProcMaps.Mapping> list = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.strip().split("\\s+", 6);
            if (f.length < 5) {
                continue;
            }
            try {
                int dash = f[0].indexOf('-');
                list.add(new ProcMaps.Mapping(Long.parseUnsignedLong(f[0].substring(0, dash), 16),
                        Long.parseUnsignedLong(f[0].substring(dash + 1), 16), f[1], Long.parseUnsignedLong(f[2], 16), f[3],
                        Long.parseLong(f[4]), f.length == 6 ? f[5].strip() : ""));
            } catch (RuntimeException ignored) {
                // not a mapping line
            }
        }
        return list;
    }

    @Test
    void thisProcesssMapsParseAsTheirFormatSays() throws Exception {
        String text = Files.readString(Path.of("/proc/self/maps"));
        List<ProcMaps.Mapping> parsed = ProcMaps.parse(text).mappings();
        assertFalse(parsed.isEmpty());
        assertEquals(reference(text), parsed);
    }

    @Test
    void oddLinesAreSkippedOrKeptWhole() {
        String text = """
                7f0000000000-7f0000001000 r-xp 00000000 08:01 1234                       /opt/my app/lib x.so
                7f0000001000-7f0000002000 rw-p 00001000 00:00 0
                ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
                not a mapping at all
                7f00-zz r-xp 0 08:01 1

                7f0000003000-7f0000004000 r--p 00000000 08:01 99 /lib/libc.so.6 (deleted)
                  7f0000005000-7f0000006000 r--p 00000000 08:01 7\t/tab/separated""";
        List<ProcMaps.Mapping> parsed = ProcMaps.parse(text).mappings();
        assertEquals(reference(text), parsed);
        assertEquals(5, parsed.size());
        assertEquals("/opt/my app/lib x.so", parsed.get(0).path());
        assertEquals("", parsed.get(1).path());
        assertEquals(0xffffffffff600000L, parsed.get(2).start());
    }

    @Test
    void startMappingsAreReadOnceAndHoldLibjvmAndLibc() {
        ProcMaps first = ProcMaps.selfAtStart();
        assertSame(first, ProcMaps.selfAtStart());
        assertTrue(first.libjvm().isPresent());
        assertTrue(first.libc().isPresent());
    }

    /** The names the regular expression libc-[\\d.]+\\.so took, and what it refused. */
    @Test
    void libcIsKnownByItsNamesAlone() {
        for (String yes : List.of("libc.so.6", "libc.so", "libc-2.31.so", "libc-2.so", "libc-.1.so")) {
            assertTrue(ProcMaps.isLibc(yes), yes);
        }
        for (String no : List.of("libc-.so", "libc-2.31a.so", "libc-2.31.so.6", "libcrypto.so.3", "libc.so.7", "xlibc.so.6",
                "libc-2.31.s", "libjvm.so", "")) {
            assertFalse(ProcMaps.isLibc(no), no);
        }
    }
}
