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

    /**
     * The id of a chunk's metadata (the fifth varint of its metadata event: size, type id 0,
     * start, duration, id) and where it is. The JDK's parser takes a chunk whose id equals the
     * previous chunk's as having the same metadata and reuses that chunk's parsers, whose caches
     * assume constant pool keys are unique in the whole file: true for the JVM's chunks, not for
     * ours (JMC's writer numbers each chunk's pools from 1 and always writes id 0).
     */
    static long[] metadataId(Path file, ChunkHeader chunk) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer offset = ByteBuffer.allocate(8);
            ch.read(offset, chunk.position() + METADATA_OFFSET);
            long at = chunk.position() + offset.getLong(0);
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

    /** Sets a chunk's metadata id to a value of one varint byte (1..127) where the id is one byte now. */
    static boolean patchMetadataId(Path file, ChunkHeader chunk, long id) throws IOException {
        if (id < 1 || id > 127) {
            throw new IllegalArgumentException("metadata id " + id + " is not one varint byte");
        }
        long[] current = metadataId(file, chunk);
        if (current[2] != 1) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) id}), current[1]);
        }
        return true;
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
