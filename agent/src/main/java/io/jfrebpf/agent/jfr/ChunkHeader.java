package io.jfrebpf.agent.jfr;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The fixed header of a JFR chunk (big endian): magic {@code FLR\0}, version, chunk size,
 * constant pool and metadata offsets, start (epoch ns), duration (ns), start ticks, ticks per
 * second, features. Readers map an event's ticks to wall-clock time through it.
 */
record ChunkHeader(long position, long size, long startNanos, long durationNanos, long startTicks, long ticksPerSecond) {
    static final int LENGTH = 68;
    static final int MAGIC = 0x464c5200;
    static final int SIZE = 8;
    static final int START_NANOS = 32;
    static final int DURATION_NANOS = 40;
    static final int START_TICKS = 48;
    static final int TICKS_PER_SECOND = 56;

    /** Every chunk header of a file. */
    static List<ChunkHeader> readAll(Path file) throws IOException {
        List<ChunkHeader> list = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long pos = 0;
            long end = ch.size();
            while (pos + LENGTH <= end) {
                ByteBuffer b = ByteBuffer.allocate(LENGTH);
                while (b.hasRemaining() && ch.read(b, pos + b.position()) > 0) {
                    // fill
                }
                if (b.getInt(0) != MAGIC) {
                    throw new IOException(file + ": no JFR chunk at offset " + pos);
                }
                long size = b.getLong(SIZE);
                if (size < LENGTH || size > end - pos) {
                    throw new IOException(file + ": chunk at offset " + pos + " has a bad size " + size);
                }
                list.add(new ChunkHeader(pos, size, b.getLong(START_NANOS), b.getLong(DURATION_NANOS),
                        b.getLong(START_TICKS), b.getLong(TICKS_PER_SECOND)));
                pos += size;
            }
        }
        return list;
    }

    /** Rewrites the clock fields of the first chunk of a file. */
    static void patchClock(Path file, long startNanos, long durationNanos, long startTicks, long ticksPerSecond)
            throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(32);
            b.putLong(startNanos).putLong(durationNanos).putLong(startTicks).putLong(ticksPerSecond).flip();
            while (b.hasRemaining()) {
                ch.write(b, START_NANOS + b.position());
            }
        }
    }

    /** Epoch ns of a tick value, as readers compute it. */
    long epochNanos(long ticks) {
        return startNanos + Math.round((ticks - startTicks) * (1e9 / ticksPerSecond));
    }
}
