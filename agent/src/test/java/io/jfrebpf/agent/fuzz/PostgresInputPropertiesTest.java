package io.jfrebpf.agent.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.jfrebpf.agent.os.ElfFormatException;
import io.jfrebpf.agent.os.ProcNetTcp;
import io.jfrebpf.agent.os.UsdtArgument;
import io.jfrebpf.agent.os.UsdtNotes;
import io.jfrebpf.agent.probe.PostgresRecord;
import io.jfrebpf.agent.probe.PostgresTitles;
import io.jfrebpf.agent.probe.SqlRedaction;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;

/**
 * The postgres probe's outside input on generated cases: SQL texts from the server (redaction),
 * records from its programs, socket tables, process titles, postmaster.pid files, USDT notes of
 * a binary found on the host. Each returns or throws its one documented exception.
 */
class PostgresInputPropertiesTest {
    @Property
    void redactionNeverFailsAndIsStable(@ForAll("sqlish") String sql) {
        String once = SqlRedaction.redact(sql);
        assertNotNull(once);
        assertEquals(once, SqlRedaction.redact(once), "redacting twice changes nothing: " + sql);
    }

    @Property
    void noLiteralSurvivesWhateverSurroundsIt(@ForAll("sqlAround") String[] around, @ForAll @AlphaChars @StringLength(min = 6, max = 20) String secret,
            @ForAll("quoting") String quoting) {
        String literal = switch (quoting) {
            case "plain" -> "'" + secret + "'";
            case "escaped" -> "E'\\'" + secret + "\\''";
            case "doubled" -> "'it''s " + secret + "'";
            case "dollar" -> "$tag$ " + secret + " $tag$";
            default -> "$$" + secret + "$$";
        };
        String sql = around[0] + " " + literal + " " + around[1];
        String redacted = SqlRedaction.redact(sql);
        boolean elsewhere = (around[0] + around[1]).contains(secret);
        boolean inComment = around[0].contains("--") || around[0].contains("/*");
        if (!elsewhere && !inComment) {
            assertFalse(redacted.contains(secret), sql + " -> " + redacted);
        }
    }

    @Provide
    Arbitrary<String> sqlish() {
        return Arbitraries.strings().withChars("SELECT *FROMwhere1234567890.,;()'\"$eEuU&xXbB-/*\\ \n_ab").ofMaxLength(60);
    }

    @Provide
    Arbitrary<String[]> sqlAround() {
        Arbitrary<String> part = Arbitraries.of("SELECT", "FROM t WHERE a =", "AND b IN (1, 2)", "t1.c2", "\"q\"\"i\"", "$1", "x::text",
                "ORDER BY 3", "", "-- note\n", "/* c */");
        return Combinators.combine(part.list().ofMaxSize(4), part.list().ofMaxSize(4))
                .as((a, b) -> new String[] {String.join(" ", a), String.join(" ", b)});
    }

    @Provide
    Arbitrary<String> quoting() {
        return Arbitraries.of("plain", "escaped", "doubled", "dollar", "empty-dollar");
    }

    @Property
    void anyQueryRecordDecodesOrIsTooShort(@ForAll @Size(max = 2200) byte[] bytes) {
        try {
            PostgresRecord r = PostgresRecord.decode(MemorySegment.ofArray(bytes));
            assertNotNull(r.query());
        } catch (IllegalArgumentException e) {
            assertNotNull(e.getMessage());
        }
    }

    @Property
    void socketTablesTitlesAndPidFilesNeverThrow(@ForAll("procText") String text, @ForAll int port) {
        assertNotNull(ProcNetTcp.parse(text, ProcNetTcp.AF_INET));
        assertNotNull(ProcNetTcp.parse(text, ProcNetTcp.AF_INET6));
        PostgresTitles.check(text, port);
    }

    @Provide
    Arbitrary<String> procText() {
        return Arbitraries.strings().withChars("0123456789ABCDEF: \n()postgres.-abc[]\0").ofMaxLength(200);
    }

    @Property
    void usdtArgumentsParseOrSayWhy(@ForAll("specs") String spec) {
        try {
            assertNotNull(UsdtArgument.parse(spec));
        } catch (IllegalArgumentException e) {
            assertNotNull(e.getMessage());
        }
    }

    @Provide
    Arbitrary<String> specs() {
        return Arbitraries.strings().withChars("-0123456789@%()rbpdixsal$,+").ofMaxLength(16);
    }

    @Property
    void anyFileHasUsdtNotesOrIsAClearError(@ForAll @Size(max = 512) byte[] tail) throws IOException {
        byte[] bytes = new byte[64 + tail.length];
        bytes[0] = 0x7f;
        bytes[1] = 'E';
        bytes[2] = 'L';
        bytes[3] = 'F';
        bytes[4] = 2;
        bytes[5] = 1;
        System.arraycopy(tail, 0, bytes, 64, tail.length);
        for (int i = 16; i < 64 && i - 16 < tail.length; i++) {
            bytes[i] = tail[i - 16];
        }
        Path f = Files.createTempFile("usdt", ".elf");
        try {
            Files.write(f, bytes);
            assertNotNull(UsdtNotes.read(f));
        } catch (ElfFormatException e) {
            assertNotNull(e.getMessage());
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
