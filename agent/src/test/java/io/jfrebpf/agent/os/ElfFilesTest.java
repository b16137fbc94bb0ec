package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ElfFilesTest {
    static Path image(Path dir, String file, String function) throws Exception {
        return Files.write(dir.resolve(file), new ElfImage().dynamic(function, ElfImage.BASE + 0x10, 4, ElfImage.STT_FUNC).bytes());
    }

    @Test
    void usersOfOneFileShareItUntilTheLastClosesIt(@TempDir Path dir) throws Exception {
        Path file = image(dir, "one.so", "f");
        ElfFile a = ElfFiles.open(file);
        ElfFile b = ElfFiles.open(file);
        assertSame(a, b, "one file, one set of tables and indexes");
        a.close();
        assertEquals("f", b.symbolAt(ElfImage.BASE + 0x11).orElseThrow().name(), "another user's close leaves it open");
        b.close();
        try (ElfFile c = ElfFiles.open(file)) {
            assertSame(a, c, "kept between its users");
            assertEquals("f", c.symbol("f").orElseThrow().name());
        }
    }

    @Test
    void aFileReplacedOnDiskIsReadAnew(@TempDir Path dir) throws Exception {
        Path file = image(dir, "lib.so", "before");
        try (ElfFile old = ElfFiles.open(file)) {
            Path next = image(dir, "next.so", "after");
            Files.setLastModifiedTime(next, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 1000));
            Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (ElfFile now = ElfFiles.open(file)) {
                assertNotSame(old, now);
                assertEquals("after", now.symbolAt(ElfImage.BASE + 0x11).orElseThrow().name());
            }
            assertEquals("before", old.symbolAt(ElfImage.BASE + 0x11).orElseThrow().name(), "its user still has the old one");
        }
    }

    @Test
    void filesPastTheBoundAreClosedWithTheirLastUser(@TempDir Path dir) throws Exception {
        Path first = image(dir, "first.so", "f0");
        ElfFile held = ElfFiles.open(first);
        ElfFile released = ElfFiles.open(first);
        released.close();
        List<Path> others = new ArrayList<>();
        for (int i = 0; i < ElfFiles.MAX_FILES; i++) {
            others.add(image(dir, "lib" + i + ".so", "g" + i));
            ElfFiles.open(others.get(i)).close();
        }
        assertEquals(ElfFiles.MAX_FILES, ElfFiles.kept());
        assertEquals("f0", held.symbol("f0").orElseThrow().name(), "dropped from the registry, still open for its user");
        held.close();
        assertThrows(IllegalStateException.class, () -> held.symbol("f0"), "its last user closed it");
        try (ElfFile again = ElfFiles.open(first)) {
            assertNotSame(held, again);
            assertEquals("f0", again.symbol("f0").orElseThrow().name());
        }
    }
}
