package io.jfrebpf.agent.os;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Questions to the running kernel's BTF (/sys/kernel/btf/vmlinux) that decide which programs
 * to load: a tp_btf program names its tracepoint at load time, and one the kernel lacks makes
 * the whole object fail to load.
 */
public final class KernelBtf {
    static final String VMLINUX = "/sys/kernel/btf/vmlinux";
    private static final int MAGIC = 0xeb9f;
    /** The string section of today's kernels is ~2 MB; a file claiming far more is not BTF we understand. */
    private static final int MAX_STRINGS = 64 << 20;

    private KernelBtf() {
    }

    /** Whether the kernel has a raw tracepoint of this name (its {@code btf_trace_<name>} type). */
    public static boolean hasTracepoint(String name) throws IOException {
        return hasString("btf_trace_" + name);
    }

    /** Whether the string section of the kernel's BTF holds exactly this name. */
    public static boolean hasString(String name) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(VMLINUX, "r")) {
            return contains(strings(f), name);
        }
    }

    /** The BTF string section: NUL-separated names, starting with an empty one. */
    static byte[] strings(RandomAccessFile f) throws IOException {
        byte[] header = new byte[24];
        f.readFully(header);
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        if ((h.getShort(0) & 0xffff) != MAGIC) {
            throw new IOException(VMLINUX + " is not little-endian BTF (magic 0x" + Integer.toHexString(h.getShort(0) & 0xffff) + ")");
        }
        long hdrLen = Integer.toUnsignedLong(h.getInt(4));
        long strOff = Integer.toUnsignedLong(h.getInt(16));
        long strLen = Integer.toUnsignedLong(h.getInt(20));
        if (strLen > MAX_STRINGS || hdrLen + strOff + strLen > f.length()) {
            throw new IOException(VMLINUX + ": string section of " + strLen + " bytes at " + (hdrLen + strOff) + " does not fit");
        }
        byte[] strings = new byte[(int) strLen];
        f.seek(hdrLen + strOff);
        f.readFully(strings);
        return strings;
    }

    static boolean contains(byte[] strings, String name) {
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            return false; // a name is one NUL-free string
        }
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + n.length < strings.length; i++) {
            if ((i > 0 && strings[i - 1] != 0) || strings[i + n.length] != 0) {
                continue;
            }
            for (int j = 0; j < n.length; j++) {
                if (strings[i + j] != n[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
