package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

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
