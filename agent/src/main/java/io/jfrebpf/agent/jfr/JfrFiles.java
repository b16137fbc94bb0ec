package io.jfrebpf.agent.jfr;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** The output file: its name, and the merge of the JVM's chunks with ours. */
public final class JfrFiles {
    /** Made for a {@code %t} only: a formatter's set-up is many classes and lambdas in the application's JVM. */
    private static final class Stamp {
        static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    }

    private JfrFiles() {
    }

    /** {@code %p} → pid, {@code %t} → start time yyyyMMdd-HHmmss (local), {@code %%} → %. */
    public static String expandFileName(String pattern, long pid, Instant start) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '%' && i + 1 < pattern.length()) {
                char n = pattern.charAt(i + 1);
                if (n == 'p' || n == 't' || n == '%') {
                    b.append(n == 'p' ? String.valueOf(pid) : n == 't' ? Stamp.FORMAT.format(start.atZone(ZoneId.systemDefault())) : "%");
                    i++;
                    continue;
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    /**
     * Writes the JVM's chunks (if any) and ours to {@code out}, all in the order of their start
     * times: into a temporary file of the same directory first, renamed into place when
     * complete, so a failure (disk full) never leaves a partial file that looks whole. The
     * inputs are not changed: each of our chunks is patched in the output, where
     * <ul>
     * <li>its start moves by a nanosecond (and tick) while another chunk starts at the same time:
     *     JMC keeps only one chunk of a start time;
     * <li>its duration counts only the part of its time the JVM's chunks do not cover. The JVM's
     *     chunks are the file's account of time: {@code jfr summary} adds up every chunk's
     *     duration, so ours, which hold the same stretch of time, would count it twice. Ours
     *     keep their true start (readers convert ticks through it, and the JDK's parser stops
     *     at the first chunk that starts after the end of the time asked for);
     * <li>its metadata id differs from the chunk's before and after it, so that the JDK's
     *     parser reads each chunk's metadata and builds its parsers anew (their caches are
     *     per chunk).
     * </ul>
     */
    public static void merge(Path jvmRecording, List<Path> ourChunks, Path out) throws IOException {
        List<Part> parts = new ArrayList<>();
        if (jvmRecording != null) {
            for (ChunkHeader h : ChunkHeader.readAll(jvmRecording)) {
                parts.add(new Part(jvmRecording, h, false, ChunkHeader.metadataId(jvmRecording, h)));
            }
        }
        long[] covered = coverage(parts);
        for (Path chunk : ourChunks) {
            for (ChunkHeader h : ChunkHeader.readAll(chunk)) {
                long[] id = ChunkHeader.metadataId(chunk, h);
                if (id[2] != 1) {
                    throw new IOException(chunk + ": the metadata id is not the one byte our writer puts there");
                }
                parts.add(new Part(chunk, h, true, id));
            }
        }
        sortByStart(parts);
        for (int i = 0; i < parts.size(); i++) {
            Part p = parts.get(i);
            if (p.ours) {
                place(p, parts, covered);
                long before = i > 0 ? parts.get(i - 1).metadataId : -1;
                long after = i + 1 < parts.size() && !parts.get(i + 1).ours ? parts.get(i + 1).metadataId : -1;
                p.metadataId = before != 1 && after != 1 ? 1 : before != 2 && after != 2 ? 2 : 3;
            }
        }
        Path dir = out.toAbsolutePath().getParent();
        Path tmp = newTemporary(dir, "." + out.getFileName());
        try {
            try (FileChannel o = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                for (Part p : parts) {
                    long at = o.position();
                    copy(p, o);
                    if (p.ours) {
                        ByteBuffer clock = ByteBuffer.allocate(24);
                        clock.putLong(p.startNanos).putLong(p.durationNanos).putLong(p.startTicks).flip();
                        writeFully(o, clock, at + ChunkHeader.START_NANOS);
                        writeFully(o, ByteBuffer.wrap(new byte[] {(byte) p.metadataId}), at + p.metadataIdOffset);
                    }
                }
            }
            try {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    private static final int CREATE_ATTEMPTS = 100;

    /**
     * A new owner-only file {@code prefix<pid>-<clock>.tmp} in {@code dir}, as
     * {@code Files.createTempFile} makes one but without its SecureRandom, whose seeding is ~100
     * classes and spun code in the application's JVM at its exit.
     */
    static Path newTemporary(Path dir, String prefix) throws IOException {
        long pid = ProcessHandle.current().pid();
        for (int i = 0;; i++) {
            Path candidate = dir.resolve(prefix + pid + "-" + Long.toHexString(System.nanoTime() + i) + ".tmp");
            try {
                try {
                    return Files.createFile(candidate, OWNER_ONLY);
                } catch (UnsupportedOperationException e) {
                    return Files.createFile(candidate); // a file system without POSIX permissions
                }
            } catch (FileAlreadyExistsException e) {
                if (i == CREATE_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY = PosixFilePermissions.asFileAttribute(
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));

    /** One chunk of an input and, for ours, the header fields and metadata id it gets in the output. */
    private static final class Part {
        final Path file;
        final ChunkHeader header;
        final boolean ours;
        final long metadataIdOffset;
        long metadataId;
        long startNanos;
        long durationNanos;
        long startTicks;

        Part(Path file, ChunkHeader header, boolean ours, long[] metadataId) {
            this.file = file;
            this.header = header;
            this.ours = ours;
            this.metadataId = metadataId[0];
            this.metadataIdOffset = metadataId[1] - header.position();
            this.startNanos = header.startNanos();
            this.durationNanos = header.durationNanos();
            this.startTicks = header.startTicks();
        }
    }

    /** The time the JVM's chunks cover: sorted, disjoint [start, end) pairs. */
    private static long[] coverage(List<Part> jvm) {
        long[] spans = new long[2 * jvm.size()];
        int n = 0;
        for (Part p : jvm) {
            long start = p.header.startNanos();
            long end = start + Math.max(0, p.header.durationNanos());
            int i = n;
            while (i > 0 && spans[2 * (i - 1)] > start) {
                spans[2 * i] = spans[2 * (i - 1)];
                spans[2 * i + 1] = spans[2 * (i - 1) + 1];
                i--;
            }
            spans[2 * i] = start;
            spans[2 * i + 1] = end;
            n++;
        }
        int merged = 0;
        for (int i = 0; i < n; i++) {
            if (merged > 0 && spans[2 * i] <= spans[2 * merged - 1]) {
                spans[2 * merged - 1] = Math.max(spans[2 * merged - 1], spans[2 * i + 1]);
            } else {
                spans[2 * merged] = spans[2 * i];
                spans[2 * merged + 1] = spans[2 * i + 1];
                merged++;
            }
        }
        return Arrays.copyOf(spans, 2 * merged);
    }

    /** Stable: the JVM's chunks (added first) stay before ours of the same start. */
    private static void sortByStart(List<Part> parts) {
        for (int i = 1; i < parts.size(); i++) {
            Part p = parts.get(i);
            int j = i;
            while (j > 0 && parts.get(j - 1).header.startNanos() > p.header.startNanos()) {
                parts.set(j, parts.get(j - 1));
                j--;
            }
            parts.set(j, p);
        }
    }

    /** A start no other chunk has, and the duration the JVM's chunks leave to this one. */
    private static void place(Part p, List<Part> parts, long[] covered) {
        long start = p.header.startNanos();
        boolean clash = true;
        while (clash) {
            clash = false;
            for (Part other : parts) {
                if (other != p && other.startNanos == start) {
                    start++;
                    clash = true;
                }
            }
        }
        long moved = start - p.header.startNanos();
        p.startNanos = start;
        p.startTicks = p.header.startTicks() + Math.round(moved * (p.header.ticksPerSecond() / 1e9));
        long end = p.header.startNanos() + Math.max(0, p.header.durationNanos());
        long own = end - start;
        for (int i = 0; i < covered.length; i += 2) {
            own -= Math.max(0, Math.min(end, covered[i + 1]) - Math.max(start, covered[i]));
        }
        p.durationNanos = Math.max(0, own);
    }

    private static void copy(Part p, FileChannel out) throws IOException {
        try (FileChannel in = FileChannel.open(p.file, StandardOpenOption.READ)) {
            long position = p.header.position();
            long remaining = p.header.size();
            while (remaining > 0) {
                long n = in.transferTo(position, remaining, out);
                if (n <= 0) {
                    throw new IOException(p.file + ": ends inside its chunk at " + position);
                }
                position += n;
                remaining -= n;
            }
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            at += out.write(b, at);
        }
    }
}
