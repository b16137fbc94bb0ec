package io.jfrebpf.agent.jfr;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * Bytes of a JFR chunk with compressed integers, in a growable array that is reused: events
 * (a size, the type id, then each field in the order of the type's metadata), constant pool
 * entries and the metadata event. Integers are LEB128 varints (the ninth byte of a long carries
 * 8 bits), ints and shorts as their unsigned bit patterns, floats and doubles raw big endian.
 * Strings are a key of the chunk's string pool (encoding 2) or, inside the pools and the
 * metadata, inline: Latin-1 (encoding 5) when every char fits a byte, else UTF-8 (encoding 3),
 * encoded here char by char so that nothing is allocated. An event's size is written as a
 * 4-byte padded varint, as HotSpot does, so it can be filled in last; the pool and metadata
 * events, which can be larger, take 5 bytes.
 *
 * <p>Nothing here allocates unless the array must grow. Streaming to a file
 * ({@link #streamTo}: a chunk's pools and metadata, of any size, on the writer thread), a full
 * array is written out instead of growing; it grows only for a single string or byte run
 * larger than itself.
 */
final class EventEncoder {
    static final int STRING_NULL = 0;
    static final int STRING_EMPTY = 1;
    static final int STRING_POOLED = 2;
    static final int STRING_UTF8 = 3;
    static final int STRING_LATIN1 = 5;
    static final int MAX_EVENT_SIZE = (1 << 28) - 1;
    static final int PADDED_INT_BYTES = 5;
    /**
     * At most this much per write to a channel: the JDK copies a heap buffer into a direct one
     * of the write's size, which it keeps per thread (unbounded by default).
     */
    static final int WRITE_BYTES = 128 * 1024;

    private final int initialCapacity;
    private byte[] buffer;
    private ByteBuffer view;
    private int position;
    private int eventStart = -1;
    private FileChannel stream;
    private long streamStart;
    private int streamed;

    EventEncoder() {
        this(64 * 1024);
    }

    EventEncoder(int capacity) {
        this.initialCapacity = capacity;
        this.buffer = new byte[capacity];
    }

    /**
     * From now on, when the array is full, what it holds is appended to {@code out} (at its
     * position) and the array refilled: {@link #size()} and the positions of padded varints
     * count those bytes too. Until {@link #reset()}; {@link #writeTo} writes the rest.
     */
    void streamTo(FileChannel out) throws IOException {
        if (position != 0 || eventStart >= 0) {
            throw new IllegalStateException("streams only from empty");
        }
        stream = out;
        streamStart = out.position();
        streamed = 0;
    }

    void beginEvent(long typeId) {
        eventStart = position;
        ensure(4);
        position += 4;
        varLong(typeId);
    }

    void endEvent() {
        int size = position - eventStart;
        if (size > MAX_EVENT_SIZE) {
            position = eventStart;
            eventStart = -1;
            throw new IllegalStateException("event of more than 256 MB");
        }
        buffer[eventStart] = (byte) (size & 0x7f | 0x80);
        buffer[eventStart + 1] = (byte) (size >>> 7 & 0x7f | 0x80);
        buffer[eventStart + 2] = (byte) (size >>> 14 & 0x7f | 0x80);
        buffer[eventStart + 3] = (byte) (size >>> 21 & 0x7f);
        eventStart = -1;
    }

    /** Drops a half-written event (a field that could not be read). */
    void abandonEvent() {
        if (eventStart >= 0) {
            position = eventStart;
            eventStart = -1;
        }
    }

    /** In locals, and one store at the end: the JIT inlines this at every field, small is cheaper to compile. */
    void varLong(long v) {
        ensure(9);
        byte[] b = buffer;
        int p = position;
        for (int i = 0; i < 8 && (v & ~0x7fL) != 0; i++) {
            b[p++] = (byte) (v | 0x80); // the low 7 bits and the continuation bit
            v >>>= 7;
        }
        b[p++] = (byte) v; // the last 7 bits, or the ninth byte's 8
        position = p;
    }

    void varInt(int v) {
        varLong(v & 0xffffffffL);
    }

    /** Room for a {@link #PADDED_INT_BYTES}-byte varint filled in later by {@link #paddedVarInt(int, long)}; returns where. */
    int reservePaddedVarInt() {
        ensure(PADDED_INT_BYTES);
        int at = size();
        position += PADDED_INT_BYTES;
        return at;
    }

    /** A varint of exactly 5 bytes (up to 2^35 - 1) at {@code at}, in the array or, streamed already, in the file. */
    void paddedVarInt(int at, long v) {
        if (v < 0 || v >= 1L << 35) {
            throw new IllegalArgumentException("padded varint out of range");
        }
        byte[] b = at >= streamed ? buffer : new byte[PADDED_INT_BYTES];
        int i = at >= streamed ? at - streamed : 0;
        b[i] = (byte) (v & 0x7f | 0x80);
        b[i + 1] = (byte) (v >>> 7 & 0x7f | 0x80);
        b[i + 2] = (byte) (v >>> 14 & 0x7f | 0x80);
        b[i + 3] = (byte) (v >>> 21 & 0x7f | 0x80);
        b[i + 4] = (byte) (v >>> 28 & 0x7f);
        if (b != buffer) {
            try {
                ByteBuffer written = ByteBuffer.wrap(b);
                for (long to = streamStart + at; written.hasRemaining(); ) {
                    to += stream.write(written, to);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    void rawByte(int v) {
        ensure(1);
        buffer[position++] = (byte) v;
    }

    void rawInt(int v) {
        ensure(4);
        for (int shift = 24; shift >= 0; shift -= 8) {
            buffer[position++] = (byte) (v >>> shift);
        }
    }

    void rawLong(long v) {
        ensure(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            buffer[position++] = (byte) (v >>> shift);
        }
    }

    void raw(byte[] bytes, int offset, int length) {
        while (length > 0) {
            ensure(Math.min(length, stream == null ? length : initialCapacity));
            int n = Math.min(length, buffer.length - position);
            System.arraycopy(bytes, offset, buffer, position, n);
            position += n;
            offset += n;
            length -= n;
        }
    }

    /** A string of the chunk's string pool, by its key. */
    void pooledString(long key) {
        rawByte(STRING_POOLED);
        varLong(key);
    }

    /** A string written out in full: null, empty, Latin-1 or UTF-8. */
    void string(String s) {
        if (s == null) {
            rawByte(STRING_NULL);
            return;
        }
        int length = s.length();
        if (length == 0) {
            rawByte(STRING_EMPTY);
            return;
        }
        int utf8 = 0;
        boolean latin1 = true;
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (c > 0xff) {
                latin1 = false;
            }
            if (c < 0x80) {
                utf8 += 1;
            } else if (c < 0x800) {
                utf8 += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(s.charAt(i + 1))) {
                utf8 += 4;
                i++;
            } else {
                utf8 += Character.isSurrogate(c) ? 1 : 3; // a lone surrogate is '?', as String.getBytes writes it
            }
        }
        if (latin1) {
            rawByte(STRING_LATIN1);
            varInt(length);
            ensure(length);
            for (int i = 0; i < length; i++) {
                buffer[position++] = (byte) s.charAt(i);
            }
            return;
        }
        rawByte(STRING_UTF8);
        varInt(utf8);
        ensure(utf8);
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                buffer[position++] = (byte) c;
            } else if (c < 0x800) {
                buffer[position++] = (byte) (0xc0 | c >> 6);
                buffer[position++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, s.charAt(++i));
                    buffer[position++] = (byte) (0xf0 | cp >> 18);
                    buffer[position++] = (byte) (0x80 | cp >> 12 & 0x3f);
                    buffer[position++] = (byte) (0x80 | cp >> 6 & 0x3f);
                    buffer[position++] = (byte) (0x80 | cp & 0x3f);
                } else {
                    buffer[position++] = '?';
                }
            } else {
                buffer[position++] = (byte) (0xe0 | c >> 12);
                buffer[position++] = (byte) (0x80 | c >> 6 & 0x3f);
                buffer[position++] = (byte) (0x80 | c & 0x3f);
            }
        }
    }

    /** Bytes encoded since the last reset, streamed ones included. */
    int size() {
        return streamed + position;
    }

    boolean isEmpty() {
        return size() == 0;
    }

    /** Empties it and ends streaming; an array grown for a huge event or string goes back to the initial size. */
    void reset() {
        position = 0;
        eventStart = -1;
        stream = null;
        streamed = 0;
        if (buffer.length > 4 * initialCapacity) {
            buffer = new byte[initialCapacity];
            view = null;
        }
    }

    /** Appends the bytes the array holds to {@code out} at its position, {@link #WRITE_BYTES} at a time. */
    void writeTo(FileChannel out) throws IOException {
        if (view == null || view.array() != buffer) {
            view = ByteBuffer.wrap(buffer);
        }
        for (int from = 0; from < position; from += WRITE_BYTES) {
            view.limit(Math.min(position, from + WRITE_BYTES)).position(from);
            while (view.hasRemaining()) {
                out.write(view);
            }
        }
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buffer, position);
    }

    /**
     * Room for {@code n} more bytes. Only the test is here: every write inlines it, the JIT once
     * per write of an event; the rare rest is {@link #makeRoom}.
     */
    private void ensure(int n) {
        if (position + n > buffer.length) {
            makeRoom(n);
        }
    }

    private void makeRoom(int n) {
        if (stream != null && position > 0) {
            spill();
        }
        if (position + n > buffer.length) {
            long grown = Math.max((long) buffer.length * 2, (long) position + n);
            if (grown > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("more than 2 GB of chunk data in one buffer");
            }
            buffer = Arrays.copyOf(buffer, (int) grown);
        }
    }

    /** Writes what the array holds to the stream and empties it (streaming only). */
    private void spill() {
        if (eventStart >= 0) {
            throw new IllegalStateException("an event is streamed only whole");
        }
        if ((long) streamed + position > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("more than 2 GB of chunk data in one stream");
        }
        try {
            writeTo(stream);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        streamed += position;
        position = 0;
    }
}
