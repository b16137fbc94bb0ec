package io.jfrebpf.agent.os;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

    /**
     * The names the probes ask about: answered together the first time any question is asked,
     * so that the kernel's ~2 MB string section is read once per process, not once per probe.
     */
    static final List<String> ASKED = List.of("btf_trace_sock_send_length", "bpf_uprobe_multi_link",
            "bpf_session_is_return");
    private static final Map<String, Boolean> ANSWERS = new HashMap<>();

    private KernelBtf() {
    }

    /** Whether the kernel has a raw tracepoint of this name (its {@code btf_trace_<name>} type). */
    public static boolean hasTracepoint(String name) throws IOException {
        return hasString("btf_trace_" + name);
    }

    /** Whether the string section of the kernel's BTF holds exactly this name (answers are kept). */
    public static boolean hasString(String name) throws IOException {
        synchronized (ANSWERS) {
            Boolean known = ANSWERS.get(name);
            if (known != null) {
                return known;
            }
            String section;
            try (RandomAccessFile f = new RandomAccessFile(VMLINUX, "r")) {
                section = text(strings(f));
            }
            for (String asked : ASKED) {
                ANSWERS.put(asked, contains(section, asked));
            }
            boolean found = contains(section, name);
            ANSWERS.put(name, found);
            return found;
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

    /**
     * The section as one Latin-1 string framed by NULs, so that a name is found by the JDK's
     * string search (an intrinsic) as {@code \0name\0}: no byte loop of ours for the JIT to
     * compile on the spot.
     */
    static String text(byte[] strings) {
        return "\0" + new String(strings, StandardCharsets.ISO_8859_1) + "\0";
    }

    static boolean contains(byte[] strings, String name) {
        return contains(text(strings), name);
    }

    static boolean contains(String section, String name) {
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            return false; // a name is one NUL-free string
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        return section.indexOf("\0" + new String(utf8, StandardCharsets.ISO_8859_1) + "\0") >= 0;
    }
}
