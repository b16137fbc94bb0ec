package io.jfrebpf.agent.os;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/** Reading the parts of an ELF file (tables, sections, notes): bounded by the file and a size cap, NUL-terminated strings. */
final class ElfBytes {
    private ElfBytes() {
    }

    /** The ELF64 header's table positions and sizes, from its first 64 bytes (checked: magic, class, byte order, entry sizes). */
    record Header(long phoff, long shoff, int phentsize, int phnum, int shentsize, int shnum, int shstrndx) {
        static Header of(ByteBuffer h, String what) throws ElfFormatException {
            if (h.getInt(0) != 0x464c457f || h.get(4) != 2 || h.get(5) != 1) {
                throw new ElfFormatException(what + " is not an ELF64 little-endian file");
            }
            Header r = new Header(h.getLong(32), h.getLong(40), Short.toUnsignedInt(h.getShort(54)),
                    Short.toUnsignedInt(h.getShort(56)), Short.toUnsignedInt(h.getShort(58)), Short.toUnsignedInt(h.getShort(60)),
                    Short.toUnsignedInt(h.getShort(62)));
            if ((r.phnum > 0 && r.phentsize < 56) || (r.shnum > 0 && r.shentsize < 64)) {
                throw new ElfFormatException(what + ": bad header entry sizes");
            }
            return r;
        }
    }

    /** A loadable segment (PT_LOAD): where its bytes are in the file and at which link-time addresses. */
    record Segment(long vaddr, long offset, long filesz) {
        private static final int PT_LOAD = 1;

        /** The loadable segments of the program header table. */
        static List<Segment> of(ByteBuffer programHeaders, Header h) {
            List<Segment> segments = new ArrayList<>();
            for (int i = 0; i < h.phnum(); i++) {
                int b = i * h.phentsize();
                if (programHeaders.getInt(b) == PT_LOAD) {
                    segments.add(new Segment(programHeaders.getLong(b + 16), programHeaders.getLong(b + 8), programHeaders.getLong(b + 32)));
                }
            }
            return segments;
        }

        /** The file offset of a link-time address, through the segment that holds it. */
        static OptionalLong fileOffset(List<Segment> segments, long vaddr) {
            for (Segment s : segments) {
                if (vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) {
                    return OptionalLong.of(vaddr - s.vaddr + s.offset);
                }
            }
            return OptionalLong.empty();
        }
    }

    /** {@code length} bytes at {@code offset}, little-endian; an {@link ElfFormatException} when outside the file or over {@code max}. */
    static ByteBuffer read(FileChannel ch, long offset, long length, long fileSize, long max, String what) throws IOException {
        if (offset < 0 || length < 0 || length > max || offset > fileSize || length > fileSize - offset) {
            throw new ElfFormatException(what + ": " + length + " bytes at " + offset + " are outside the file");
        }
        ByteBuffer b = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, offset + b.position()) < 0) {
                throw new ElfFormatException(what + ": truncated");
            }
        }
        return b.flip();
    }

    /**
     * Little-endian reads of a mapped table through a heap copy of part of it, moved on when a
     * read falls outside: plain array reads, one bulk copy a window. Reading a MemorySegment
     * value by value costs microseconds each until the JIT has compiled the access path, and a
     * table is read once, cold: libjvm's .symtab took 0.5 s so, 20 ms so. The caller keeps
     * every read inside the table.
     */
    static final class Window {
        private final MemorySegment table;
        private final byte[] bytes;
        private long start;
        private int length;

        Window(MemorySegment table, int size) {
            this.table = table;
            this.bytes = new byte[(int) Math.max(8, Math.min(size, table.byteSize()))];
        }

        long size() {
            return table.byteSize();
        }

        /** Where the n bytes at offset are in {@code bytes}, after moving the window there if needed. */
        private int at(long offset, int n) {
            if (offset < start || offset + n > start + length) {
                start = offset;
                length = (int) Math.min(bytes.length, table.byteSize() - offset);
                MemorySegment.copy(table, ValueLayout.JAVA_BYTE, offset, bytes, 0, length);
            }
            return (int) (offset - start);
        }

        byte get(long offset) {
            return bytes[at(offset, 1)];
        }

        /**
         * The name index's buckets ({@link NameIndex#bucketOf}) of the names at these offsets
         * (-1: no name, bucket -1) into buckets from {@code at} on: one call a block of entries,
         * its loop reading the copy itself. A call a name had the JIT compile the reads it made
         * (nameKey, getLong, at) on their own too, each called 70,000 times on libjvm: 30 ms of
         * C2 at start-up.
         */
        void buckets(long[] offsets, int n, int shift, int[] buckets, int at) {
            for (int j = 0; j < n; j++) {
                long offset = offsets[j];
                int b = -1;
                if (offset >= 0) {
                    long head;
                    if (offset >= start && offset + 8 <= start + length) {
                        head = little(bytes, (int) (offset - start));
                    } else {
                        head = head(offset);
                    }
                    b = NameIndex.bucketOf(NameIndex.key(head), shift);
                }
                buckets[at + j] = b;
            }
        }

        /** The eight bytes at offset as a little-endian long, zeros past the table's end; the window moved there. */
        private long head(long offset) {
            long size = table.byteSize();
            if (offset + 8 <= size) {
                return getLong(offset);
            }
            long head = 0;
            for (int k = 0; offset + k < size; k++) {
                head |= (get(offset + k) & 0xffL) << (8 * k);
            }
            return head;
        }

        private static long little(byte[] b, int i) {
            long lo = (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (long) (b[i + 3] & 0xff) << 24;
            long hi = (b[i + 4] & 0xff) | (b[i + 5] & 0xff) << 8 | (b[i + 6] & 0xff) << 16 | (long) (b[i + 7] & 0xff) << 24;
            return lo | hi << 32;
        }

        /** Whether the bytes at offset are these, all of them inside the table: compared in the copy, a window at a time. */
        boolean startsWith(long offset, byte[] b) {
            if (offset < 0 || offset > table.byteSize() - b.length) {
                return false;
            }
            for (int k = 0; k < b.length;) {
                int i = at(offset + k, 1);
                int n = Math.min(length - i, b.length - k);
                for (int j = 0; j < n; j++) {
                    if (bytes[i + j] != b[k + j]) {
                        return false;
                    }
                }
                k += n;
            }
            return true;
        }

        /** The first offset in [from, limit) of a NUL, or of an '@' when {@code atVersion}; else limit. */
        long end(long from, long limit, boolean atVersion) {
            long at = from;
            // eight bytes a step (libjvm's C++ names have 60 on average): the index's dedupe
            // measures the names of its 5,600 aliases so, and the frames' names are cut so
            while (at + 8 <= limit) {
                long stops = NameIndex.stops(getLong(at), atVersion);
                if (stops != 0) {
                    return at + (Long.numberOfTrailingZeros(stops) >>> 3);
                }
                at += 8;
            }
            for (; at < limit; at++) {
                byte b = get(at);
                if (b == 0 || (b == '@' && atVersion)) {
                    return at;
                }
            }
            return limit;
        }

        int getShort(long offset) {
            int i = at(offset, 2);
            return (bytes[i] & 0xff) | (bytes[i + 1] & 0xff) << 8;
        }

        int getInt(long offset) {
            int i = at(offset, 4);
            return (bytes[i] & 0xff) | (bytes[i + 1] & 0xff) << 8 | (bytes[i + 2] & 0xff) << 16 | (bytes[i + 3] & 0xff) << 24;
        }

        long getLong(long offset) {
            return little(bytes, at(offset, 8));
        }

        /** The bytes [from, to) as a String (UTF-8). */
        String string(long from, long to) {
            if (to - from > bytes.length) {
                return new String(table.asSlice(from, to - from).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            }
            int i = at(from, (int) (to - from));
            return new String(bytes, i, (int) (to - from), StandardCharsets.UTF_8);
        }
    }

    /** The NUL-terminated string at {@code offset} ("" outside the buffer). */
    static String cString(ByteBuffer b, int offset) {
        if (offset < 0 || offset >= b.limit()) {
            return "";
        }
        int end = offset;
        while (end < b.limit() && b.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - offset];
        b.get(offset, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
