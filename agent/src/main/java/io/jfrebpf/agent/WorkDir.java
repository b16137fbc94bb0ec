package io.jfrebpf.agent;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The temporary directory of one recording ({@code .jfr-ebpf-*} next to the output file: the
 * JVM's recording and our chunks until they are merged). It names its owner — pid, the
 * process's start time, boot id and pid namespace — so that a later recording into the same
 * directory can delete what a killed JVM ({@code kill -9}, OOM killer) left behind, and only
 * that: a directory whose owner runs, or that another boot, namespace or container made, is
 * left alone.
 */
final class WorkDir {
    static final String PREFIX = ".jfr-ebpf-";
    static final String OWNER = "owner";

    private WorkDir() {
    }

    /** Owner-only, as a temporary directory is. */
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY = PosixFilePermissions.asFileAttribute(
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE));
    private static final int CREATE_ATTEMPTS = 100;

    /**
     * A new directory named by pid and clock, not by {@code Files.createTempDirectory}: that
     * seeds a SecureRandom, whose set-up is ~100 classes and spun code in the application's JVM.
     */
    static Path create(Path dir) throws IOException {
        long pid = ProcessHandle.current().pid();
        Path work = null;
        for (int i = 0; work == null; i++) {
            Path candidate = dir.resolve(PREFIX + pid + "-" + Long.toHexString(System.nanoTime() + i));
            try {
                work = Files.createDirectory(candidate, OWNER_ONLY);
            } catch (FileAlreadyExistsException e) {
                if (i == CREATE_ATTEMPTS) {
                    throw e;
                }
            } catch (UnsupportedOperationException e) {
                work = Files.createDirectory(candidate); // a file system without POSIX permissions
            }
        }
        Files.writeString(work.resolve(OWNER), "pid=" + ProcessHandle.current().pid() + "\nstart=" + start(ProcessHandle.current())
                + "\nboot=" + bootId() + "\npidns=" + pidNamespace() + "\n");
        return work;
    }

    /** Deletes the directories of recordings whose JVM died before writing them; logs each. */
    static void removeStale(Path dir) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, PREFIX + "*")) {
            for (Path work : entries) {
                if (Files.isDirectory(work) && isStale(work)) {
                    Log.info("removed %s, left by a JVM that ended before writing its recording", work);
                    delete(work);
                }
            }
        } catch (IOException | RuntimeException e) {
            Log.debug("could not look for stale recordings in %s: %s", dir, e);
        }
    }

    static boolean isStale(Path work) {
        Map<String, String> owner = new HashMap<>();
        try {
            for (String line : Files.readAllLines(work.resolve(OWNER))) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    owner.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        } catch (IOException e) {
            return false; // being created, or not ours to judge
        }
        String boot = bootId();
        String pidns = pidNamespace();
        if (boot.equals("?") || pidns.equals("?") || !boot.equals(owner.get("boot")) || !pidns.equals(owner.get("pidns"))) {
            return false; // another boot, namespace or container: its pids mean nothing here
        }
        long pid;
        try {
            pid = Long.parseLong(owner.getOrDefault("pid", ""));
        } catch (NumberFormatException e) {
            return false;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        return process.isEmpty() || !start(process.get()).equals(owner.get("start"));
    }

    /** Deletes a work directory and what is in it (its directories too; links are deleted, not followed). */
    static void delete(Path work) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(work)) {
            for (Path p : entries) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    delete(p);
                } else {
                    deleteQuietly(p);
                }
            }
        } catch (IOException ignored) {
            // nothing to clean, or not readable: left for the user
        }
        deleteQuietly(work);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // left for the user; the name starts with a dot
        }
    }

    private static String start(ProcessHandle p) {
        Optional<Instant> start = p.info().startInstant();
        return start.isPresent() ? start.get().toString() : "?";
    }

    private static String bootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    private static String pidNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "?";
        }
    }
}
