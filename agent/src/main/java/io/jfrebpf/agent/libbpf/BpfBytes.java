package io.jfrebpf.agent.libbpf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of a BPF record or map value, copied once out of native memory and read
 * little-endian (the BPF side's order on the architectures we run on) with plain array reads.
 * The decoders read through this,
 * not through {@link MemorySegment} getters: each getter inlines its var-handle plumbing into
 * the caller, so that the event header's decoder alone compiled to 64 KB of C1 code in 94 ms,
 * in every JVM the agent ran in; through this it is a few hundred bytes. One copy of a record
 * (at most a few KB, a file path) costs less than that code's first compile.
 */
public final class BpfBytes {
    private final byte[] bytes;

    private BpfBytes(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The first {@code size} bytes of a record (all of it when shorter; the decoders check its size first). */
    public static BpfBytes of(MemorySegment record, long size) {
        int n = (int) Math.min(record.byteSize(), size);
        byte[] copy = new byte[n];
        MemorySegment.copy(record, ValueLayout.JAVA_BYTE, 0, copy, 0, n);
        return new BpfBytes(copy);
    }

    /** All of a record. */
    public static BpfBytes of(MemorySegment record) {
        return of(record, Integer.MAX_VALUE);
    }

    public int size() {
        return bytes.length;
    }

    public long u64(long offset) {
        int o = (int) offset;
        return (u32(o) & 0xffffffffL) | ((long) u32(o + 4) << 32);
    }

    public int u32(long offset) {
        int o = (int) offset;
        byte[] b = bytes;
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | b[o + 3] << 24;
    }

    public long[] u64s(long offset, int count) {
        long[] values = new long[count];
        for (int i = 0; i < count; i++) {
            values[i] = u64(offset + 8L * i);
        }
        return values;
    }

    /** A NUL-terminated string in a field of {@code max} bytes (no NUL: all of it). */
    public String cString(long offset, int max) {
        int o = (int) offset;
        int n = 0;
        while (n < max && bytes[o + n] != 0) {
            n++;
        }
        return string(offset, n);
    }

    public String string(long offset, int length) {
        return new String(bytes, (int) offset, length, StandardCharsets.UTF_8);
    }
}
