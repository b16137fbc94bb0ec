package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** USDT notes and argument specs, checked against readelf on the real PostgreSQL binary. */
class UsdtNotesTest {
    static final Path POSTGRES = Path.of("/usr/lib/postgresql/15/bin/postgres");

    @Test
    void everySiteReadelfListsIsFoundWithItsFileOffsetSemaphoreAndArguments() throws Exception {
        assertTrue(Files.isReadable(POSTGRES), "PostgreSQL 15 is installed by scripts/setup.sh");
        Process p = new ProcessBuilder("readelf", "-n", "-W", POSTGRES.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        // Provider: postgresql / Name: query__start / Location: 0x..., Base: 0x..., Semaphore: 0x... / Arguments: 8@%rbx
        Matcher m = Pattern.compile("Provider: (\\S+)\\s+Name: (\\S+)\\s+Location: 0x([0-9a-f]+), Base: 0x[0-9a-f]+, "
                + "Semaphore: 0x([0-9a-f]+)\\s+Arguments: ?([^\\n]*)").matcher(out);
        List<UsdtNotes.Site> sites = UsdtNotes.read(POSTGRES);
        ElfFile elf = ElfFile.open(POSTGRES);
        int n = 0;
        while (m.find()) {
            n++;
            UsdtNotes.Site s = sites.get(n - 1);
            assertEquals(m.group(1), s.provider());
            assertEquals(m.group(2), s.name());
            assertEquals(elf.fileOffset(Long.parseLong(m.group(3), 16)), s.offset(), s.toString());
            long semaphore = Long.parseLong(m.group(4), 16);
            assertEquals(semaphore == 0 ? 0 : elf.fileOffset(semaphore), s.semaphoreOffset(), s.toString());
            assertEquals(m.group(5).strip(), s.arguments().strip());
        }
        assertEquals(n, sites.size());
        assertTrue(n >= 71, "PostgreSQL 15 has 71 probes, some at several sites: " + n);
        assertTrue(sites.stream().anyMatch(s -> s.name().equals("query__execute__start")));
    }

    @Test
    void aFileWithoutNotesHasNoSitesAndGarbageIsRefused(@TempDir Path dir) throws Exception {
        assertEquals(List.of(), UsdtNotes.read(Path.of("/bin/true")).stream().filter(s -> !s.provider().isEmpty()).toList()
                .stream().filter(s -> s.provider().equals("postgresql")).toList());
        Path junk = Files.write(dir.resolve("junk"), new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 0, 0});
        assertThrows(IOException.class, () -> UsdtNotes.read(junk));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            8@%rdi        | 8 | false | REGISTER | 112 | 0
            -4@%r13d      | 4 | true  | REGISTER | 16  | 0
            8@-144(%rbp)  | 8 | false | MEMORY   | 32  | -144
            4@(%r12)      | 4 | false | MEMORY   | 24  | 0
            2@12(%r12)    | 2 | false | MEMORY   | 24  | 12
            1@%al         | 1 | false | REGISTER | 80  | 0
            4@$5          | 0 | false | NONE     | 0   | 0
            8@foo(%rip)   | 0 | false | NONE     | 0   | 0
            """)
    void argumentSpecs(String spec, int size, boolean signed, UsdtArgument.Kind kind, int ptRegs, int displacement) {
        UsdtArgument a = UsdtArgument.parse(spec);
        assertEquals(kind, a.kind());
        if (kind != UsdtArgument.Kind.NONE) {
            assertEquals(new UsdtArgument(size, signed, kind, ptRegs, displacement), a);
        }
    }

    @Test
    void malformedSpecsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> UsdtArgument.parse("%rdi"));
        assertThrows(IllegalArgumentException.class, () -> UsdtArgument.parse("3@%rdi"));
    }
}
