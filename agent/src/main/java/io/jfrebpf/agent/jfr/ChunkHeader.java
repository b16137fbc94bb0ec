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
    static final int POOL_OFFSET = 16;
    static final int METADATA_OFFSET = 24;
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

    /**
     * The id of a chunk's metadata (the fifth varint of its metadata event: size, type id 0,
     * start, duration, id), where it is in the file and how many bytes it takes. The JDK's
     * parser takes a chunk whose id equals the previous chunk's as having the same metadata and
     * reuses that chunk's parsers: their caches (the last constant pool key an event field
     * resolved, the time converter of the chunk they were built for) would then carry over.
     */
    static long[] metadataId(Path file, ChunkHeader chunk) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer offset = ByteBuffer.allocate(8);
            ch.read(offset, chunk.position() + METADATA_OFFSET);
            long at = chunk.position() + offset.getLong(0);
            if (offset.getLong(0) < LENGTH || offset.getLong(0) >= chunk.size()) {
                throw new IOException(file + ": chunk at " + chunk.position() + " has no metadata event");
            }
            ByteBuffer b = ByteBuffer.allocate(5 * 10);
            ch.read(b, at);
            b.flip();
            for (int i = 0; i < 4; i++) {
                varint(b);
            }
            long idAt = at + b.position();
            long id = varint(b);
            return new long[] {id, idAt, at + b.position() - idAt};
        } catch (RuntimeException e) {
            throw new IOException(file + ": unreadable metadata event in chunk at " + chunk.position(), e);
        }
    }

    private static long varint(ByteBuffer b) {
        long value = 0;
        for (int shift = 0; shift < 63; shift += 7) {
            byte x = b.get();
            value |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) {
                return value;
            }
        }
        return value | ((long) (b.get() & 0xff) << 56);
    }

    /** Epoch ns of a tick value, as readers compute it. */
    long epochNanos(long ticks) {
        return startNanos + Math.round((ticks - startTicks) * (1e9 / ticksPerSecond));
    }
}
