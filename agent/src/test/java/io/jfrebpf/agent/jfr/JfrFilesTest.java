package io.jfrebpf.agent.jfr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The merge's temporary file (owner-only, as Files.createTempFile made it) and the output's name. */
class JfrFilesTest {
    @Test
    void theMergesTemporaryFileIsNewOwnerOnlyAndBesideTheOutput(@TempDir Path dir) throws Exception {
        Path a = JfrFiles.newTemporary(dir, ".out.jfr");
        Path b = JfrFiles.newTemporary(dir, ".out.jfr");
        assertNotEquals(a, b);
        for (Path p : new Path[] {a, b}) {
            assertEquals(dir, p.getParent());
            String name = p.getFileName().toString();
            assertTrue(name.startsWith(".out.jfr" + ProcessHandle.current().pid() + "-") && name.endsWith(".tmp"), name);
            assertEquals(0, Files.size(p));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
        }
    }

    @Test
    void theFileNameExpandsPidAndTimeOnlyWhenAsked() {
        assertEquals("r-42-%.jfr", JfrFiles.expandFileName("r-%p-%%.jfr", 42, Instant.EPOCH));
        assertTrue(JfrFiles.expandFileName("r-%t.jfr", 42, Instant.EPOCH).matches("r-19(69|70)\\d{4}-\\d{6}\\.jfr"));
    }
}
