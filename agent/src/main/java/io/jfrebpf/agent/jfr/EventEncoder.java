package io.jfrebpf.agent.jfr;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.ToLongFunction;

/**
 * The bytes of JFR events in a chunk with compressed integers: a size, the type id, then each
 * field in the order of the type's metadata. Integers are LEB128 varints (the ninth byte of a
 * long carries 8 bits), ints and shorts as their unsigned bit patterns, floats and doubles raw
 * big endian, strings as a key of the chunk's string pool (encoding 2; a path opened 10,000
 * times is stored once) or inline as UTF-8 (encoding 3), constant pool references as their key. The
 * size is written as a 4-byte padded varint, as HotSpot does, so it can be filled in last.
 *
 * <p>JMC's writer encodes each event into a fresh 32 KB buffer, which caps a chunk at about
 * 20,000 events per second of a CPU; this costs a few hundred nanoseconds an event. JMC's writer
 * still writes each chunk's metadata and constant pools; {@link ChunkWriter} splices these bytes
 * in front of them.
 */
final class EventEncoder {
    private static final int STRING_NULL = 0;
    private static final int STRING_EMPTY = 1;
    private static final int STRING_POOLED = 2;
    private static final int STRING_UTF8 = 3;
    static final int MAX_EVENT_SIZE = (1 << 28) - 1;

    private byte[] buffer = new byte[64 * 1024];
    private int position;
    private int eventStart = -1;

    void beginEvent(long typeId) {
        eventStart = position;
        ensure(4);
        position += 4;
        varLong(typeId);
    }

    void endEvent() {
        int size = position - eventStart;
        if (size > MAX_EVENT_SIZE) {
            throw new IllegalStateException("event of " + size + " bytes");
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

    void varLong(long v) {
        ensure(9);
        for (int i = 0; i < 8; i++) {
            if ((v & ~0x7fL) == 0) {
                buffer[position++] = (byte) v;
                return;
            }
            buffer[position++] = (byte) (v & 0x7f | 0x80);
            v >>>= 7;
        }
        buffer[position++] = (byte) v;
    }

    void varInt(int v) {
        varLong(v & 0xffffffffL);
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

    void string(String s) {
        if (s == null) {
            rawByte(STRING_NULL);
        } else if (s.isEmpty()) {
            rawByte(STRING_EMPTY);
        } else {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            rawByte(STRING_UTF8);
            varInt(utf8.length);
            ensure(utf8.length);
            System.arraycopy(utf8, 0, buffer, position, utf8.length);
            position += utf8.length;
        }
    }

    /** A string by its key in the chunk's string pool, inline if {@code pool} gives none (0 or less). */
    void string(String s, ToLongFunction<String> pool) {
        long key = s == null || s.isEmpty() ? 0 : pool.applyAsLong(s);
        if (key <= 0) {
            string(s);
            return;
        }
        rawByte(STRING_POOLED);
        varLong(key);
    }

    /**
     * One public field of a catalog event, by its Java type (the types {@link ChunkWriter}
     * registers); strings go through {@code stringPool}.
     */
    void field(Field f, Object event, ToLongFunction<String> stringPool) throws IllegalAccessException {
        Class<?> t = f.getType();
        if (t == String.class) {
            string((String) f.get(event), stringPool);
        } else if (t == long.class) {
            varLong(f.getLong(event));
        } else if (t == int.class) {
            varInt(f.getInt(event));
        } else if (t == boolean.class) {
            rawByte(f.getBoolean(event) ? 1 : 0);
        } else if (t == double.class) {
            rawLong(Double.doubleToLongBits(f.getDouble(event)));
        } else if (t == float.class) {
            rawInt(Float.floatToIntBits(f.getFloat(event)));
        } else if (t == short.class) {
            varLong(f.getShort(event) & 0xffffL);
        } else if (t == byte.class) {
            rawByte(f.getByte(event));
        } else if (t == char.class) {
            varLong(f.getChar(event) & 0xffffL);
        } else {
            throw new IllegalArgumentException("field " + f + " has a type JFR events cannot carry");
        }
    }

    int size() {
        return position;
    }

    void writeTo(OutputStream out) throws IOException {
        out.write(buffer, 0, position);
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buffer, position);
    }

    private void ensure(int n) {
        if (position + n > buffer.length) {
            long grown = Math.max((long) buffer.length * 2, (long) position + n);
            if (grown > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("chunk of more than 2 GB");
            }
            buffer = Arrays.copyOf(buffer, (int) grown);
        }
    }
}
