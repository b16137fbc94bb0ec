package io.jfrebpf.agent;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkDirTest {
    @Test
    void onlyTheDirectoriesOfEndedJvmsOfThisBootAndNamespaceAreStale(@TempDir Path dir) throws Exception {
        Path mine = WorkDir.create(dir);
        assertFalse(WorkDir.isStale(mine), "this process runs");

        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        Path dead = ownedLike(mine, "dead", "pid=\\d+", "pid=" + ended.pid());
        assertTrue(WorkDir.isStale(dead), "its JVM has ended");
        Path reused = ownedLike(mine, "reused", "start=[^\\n]*", "start=2001-01-01T00:00:00Z");
        assertTrue(WorkDir.isStale(reused), "its pid now belongs to another process");
        Path otherBoot = ownedLike(dead, "other-boot", "boot=[^\\n]*", "boot=00000000-0000-0000-0000-000000000000");
        assertFalse(WorkDir.isStale(otherBoot), "made before a reboot or on another host: not ours to judge");
        Path otherNamespace = ownedLike(dead, "other-ns", "pidns=[^\\n]*", "pidns=pid:[1]");
        assertFalse(WorkDir.isStale(otherNamespace), "another container's pids");
        Path noOwner = Files.createDirectory(dir.resolve(WorkDir.PREFIX + "no-owner"));
        assertFalse(WorkDir.isStale(noOwner), "being created, or not ours");

        WorkDir.removeStale(dir);
        assertTrue(Files.exists(mine) && Files.exists(otherBoot) && Files.exists(otherNamespace) && Files.exists(noOwner));
        assertFalse(Files.exists(dead) || Files.exists(reused), "stale directories removed");
    }

    /** A work directory beside {@code like} whose owner file differs in one line. */
    private static Path ownedLike(Path like, String name, String line, String replacement) throws IOException {
        Path work = Files.createDirectory(like.resolveSibling(WorkDir.PREFIX + name));
        Files.writeString(work.resolve(WorkDir.OWNER), Files.readString(like.resolve(WorkDir.OWNER)).replaceFirst(line, replacement));
        return work;
    }
}
