package io.jfrebpf.agent.jfr;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** The output file: its name, and the merge of the JVM's chunks with ours. */
public final class JfrFiles {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

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
                    b.append(n == 'p' ? String.valueOf(pid) : n == 't' ? STAMP.format(start.atZone(ZoneId.systemDefault())) : "%");
                    i++;
                    continue;
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    /**
     * Writes the JVM's chunks (if any) followed by ours to {@code out}: into a temporary file of
     * the same directory first, renamed into place when complete, so a failure (disk full)
     * never leaves a partial file that looks whole.
     */
    public static void merge(Path jvmRecording, List<Path> ourChunks, Path out) throws IOException {
        ChunkHeader jvm = null;
        List<ChunkHeader> jvmChunks = List.of();
        if (jvmRecording != null) {
            jvmChunks = ChunkHeader.readAll(jvmRecording);
            jvm = jvmChunks.isEmpty() ? null : jvmChunks.get(jvmChunks.size() - 1);
        }
        Path dir = out.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + out.getFileName(), ".tmp");
        try {
            try (OutputStream o = Files.newOutputStream(tmp)) {
                if (jvmRecording != null) {
                    Files.copy(jvmRecording, o);
                }
            }
            long previousMetadataId = jvm == null ? 0 : ChunkHeader.metadataId(jvmRecording, jvm)[0];
            for (Path chunk : ourChunks) {
                Path aligned = align(chunk, jvm, jvmChunks);
                long id = previousMetadataId % 127 + 1;
                if (!ChunkHeader.patchMetadataId(aligned, ChunkHeader.readAll(aligned).get(0), id)) {
                    throw new IOException(chunk + ": metadata id is not where JMC's writer puts it");
                }
                previousMetadataId = id;
                try (OutputStream o = Files.newOutputStream(tmp, java.nio.file.StandardOpenOption.APPEND)) {
                    Files.copy(aligned, o);
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

    /**
     * Our chunks count in the JVM's ticks ({@link JvmTicks}) and their headers map them to
     * wall-clock time through a pair read together, so every reader lands both on one wall
     * clock. JMC drops a chunk whose start equals another's: make ours differ.
     */
    private static Path align(Path chunk, ChunkHeader jvm, List<ChunkHeader> jvmChunks) throws IOException {
        ChunkHeader ours = ChunkHeader.readAll(chunk).get(0);
        long startNanos = ours.startNanos();
        boolean clash = true;
        while (clash) {
            clash = false;
            for (ChunkHeader h : jvmChunks) {
                if (h.startNanos() == startNanos) {
                    startNanos++;
                    clash = true;
                }
            }
        }
        if (startNanos != ours.startNanos()) {
            ChunkHeader.patchClock(chunk, startNanos, ours.durationNanos(), ours.startTicks() + (startNanos - ours.startNanos()),
                    ours.ticksPerSecond());
        }
        return chunk;
    }
}
