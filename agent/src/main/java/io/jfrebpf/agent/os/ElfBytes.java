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
