package io.jfrebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlicesTest {
    static final Instant T = Instant.parse("2026-12-01T03:41:05Z");

    @Test
    void aSliceIsNamedByItsStartAndNamesStayUnique(@TempDir Path dir) throws Exception {
        Slices s = new Slices(dir.resolve("app-%p.jfr").toString(), 42, 0, 0);
        Path first = s.next(T);
        assertTrue(first.getFileName().toString().matches("app-42-\\d{8}-\\d{6}\\.jfr"), first.toString());
        Files.writeString(first, "x");
        Path second = s.next(T);
        assertTrue(second.getFileName().toString().matches("app-42-\\d{8}-\\d{6}-1\\.jfr"), second.toString());
        Slices explicit = new Slices(dir.resolve("svc-%t-p%p.jfr").toString(), 7, 0, 0);
        assertTrue(explicit.next(T).getFileName().toString().matches("svc-\\d{8}-\\d{6}-p7\\.jfr"));
    }

    @Test
    void theOldestGoBeyondMaxfilesOrMaxsizeTheNewestStaysAndOtherFilesAreNotTouched(@TempDir Path dir) throws Exception {
        for (int i = 0; i < 5; i++) {
            Path f = Files.write(dir.resolve("app-" + (100 + i % 2) + "-2026120" + i + "-000000.jfr"), new byte[1000]);
            Files.setLastModifiedTime(f, FileTime.from(T.plusSeconds(i)));
        }
        Files.writeString(dir.resolve("app-notes.txt"), "not a slice");
        Files.writeString(dir.resolve("other-20261201-000000.jfr"), "another pattern");
        List<Path> deleted = new Slices(dir.resolve("app-%p.jfr").toString(), 1, 3, 0).enforce();
        assertEquals(2, deleted.size(), deleted.toString());
        assertFalse(Files.exists(dir.resolve("app-100-20261200-000000.jfr")), "the oldest went first");
        assertEquals(3, count(dir, "app-1"));
        assertTrue(Files.exists(dir.resolve("app-notes.txt")) && Files.exists(dir.resolve("other-20261201-000000.jfr")));
        new Slices(dir.resolve("app-%p.jfr").toString(), 1, 0, 1).enforce(); // 1 byte: only the newest stays
        assertEquals(1, count(dir, "app-1"));
        assertTrue(Files.exists(dir.resolve("app-100-20261204-000000.jfr")), "the newest always stays");
    }

    static long count(Path dir, String prefix) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith(prefix)).count();
        }
    }
}
