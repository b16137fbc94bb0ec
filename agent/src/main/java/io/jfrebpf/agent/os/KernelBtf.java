package io.jfrebpf.agent.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
            "bpf_session_is_return", "btf_trace_rseq_update");
    private static final Map<String, Boolean> ANSWERS = new HashMap<>();
    private static final NativeFunction MEMMEM = NativeFunction.libc("memmem");
    private static final NativeFunction OPEN = NativeFunction.libc("open");
    private static final NativeFunction MMAP = NativeFunction.libc("mmap");
    private static final NativeFunction MUNMAP = NativeFunction.libc("munmap");
    private static final NativeFunction CLOSE = NativeFunction.libc("close");
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 02000000;
    private static final int PROT_READ = 1;
    private static final int MAP_PRIVATE = 2;
    private static final int HEADER_BYTES = 24;

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
            try (Arena arena = Arena.ofConfined()) {
                long size = Files.size(Path.of(VMLINUX));
                long file = map(size);
                if (file != 0) {
                    try {
                        MemorySegment section = mappedStrings(MemorySegment.ofAddress(file).reinterpret(size));
                        if (section != null) {
                            return answer(section, name, arena);
                        }
                    } finally {
                        MUNMAP.call(file, size);
                    }
                }
                // off-heap and freed here: the section (~2 MB) is asked a few questions once, never kept
                try (FileChannel f = FileChannel.open(Path.of(VMLINUX), StandardOpenOption.READ)) {
                    return answer(strings(f, arena), name, arena);
                }
            }
        }
    }

    /** Answers the question asked and those of {@link #ASKED} from one string section. */
    private static boolean answer(MemorySegment section, String name, Arena arena) {
        for (String asked : ASKED) {
            ANSWERS.put(asked, contains(section, asked, arena));
        }
        boolean found = contains(section, name, arena);
        ANSWERS.put(name, found);
        return found;
    }

    /**
     * The kernel's BTF mapped read-only and private (kernels since 6.16 let
     * {@code /sys/kernel/btf/vmlinux} be mapped: its pages are the kernel's own, nothing is
     * copied; reading it instead costs ~500 reads of a page each and 2 MB of fresh memory), or 0
     * where it cannot be.
     */
    private static long map(long size) {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.call(arena.allocateFrom(VMLINUX).address(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                return 0;
            }
            try {
                long at = MMAP.call(0, size, PROT_READ, MAP_PRIVATE, fd, 0);
                return at == -1 ? 0 : at;
            } finally {
                CLOSE.call(fd);
            }
        }
    }

    /**
     * The string section of a mapped BTF file where it lies, or null if the header does not
     * describe one this reads. Unframed: its first byte is the empty string's NUL and its last
     * ends its last name (both checked), so every name in it reads {@code \0name\0}.
     */
    static MemorySegment mappedStrings(MemorySegment file) {
        if (file.byteSize() < HEADER_BYTES || (file.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0) & 0xffff) != MAGIC) {
            return null;
        }
        long hdrLen = Integer.toUnsignedLong(file.get(ValueLayout.JAVA_INT_UNALIGNED, 4));
        long strOff = Integer.toUnsignedLong(file.get(ValueLayout.JAVA_INT_UNALIGNED, 16));
        long strLen = Integer.toUnsignedLong(file.get(ValueLayout.JAVA_INT_UNALIGNED, 20));
        if (strLen < 1 || strLen > MAX_STRINGS || hdrLen + strOff + strLen > file.byteSize()) {
            return null;
        }
        MemorySegment section = file.asSlice(hdrLen + strOff, strLen);
        return section.get(ValueLayout.JAVA_BYTE, 0) == 0 && section.get(ValueLayout.JAVA_BYTE, strLen - 1) == 0 ? section : null;
    }

    /**
     * The BTF string section (NUL-separated names, starting with an empty one) in memory of
     * {@code arena}, framed by a NUL on either side so that every name reads {@code \0name\0}.
     */
    static MemorySegment strings(FileChannel f, Arena arena) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        readFully(f, h, 0);
        if ((h.getShort(0) & 0xffff) != MAGIC) {
            throw new IOException(VMLINUX + " is not little-endian BTF (magic 0x" + Integer.toHexString(h.getShort(0) & 0xffff) + ")");
        }
        long hdrLen = Integer.toUnsignedLong(h.getInt(4));
        long strOff = Integer.toUnsignedLong(h.getInt(16));
        long strLen = Integer.toUnsignedLong(h.getInt(20));
        if (strLen > MAX_STRINGS || hdrLen + strOff + strLen > f.size()) {
            throw new IOException(VMLINUX + ": string section of " + strLen + " bytes at " + (hdrLen + strOff) + " does not fit");
        }
        MemorySegment section = arena.allocate(strLen + 2); // zeroed: the two framing NULs
        readFully(f, section.asSlice(1, strLen).asByteBuffer(), hdrLen + strOff);
        return section;
    }

    private static void readFully(FileChannel f, ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = f.read(into, at);
            if (n < 0) {
                throw new IOException(VMLINUX + " ends before " + (at + into.remaining()) + " bytes");
            }
            at += n;
        }
    }

    /** {@link #contains(MemorySegment, String, Arena)} of a section given as its bytes. */
    static boolean contains(byte[] strings, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment section = arena.allocate(strings.length + 2L);
            MemorySegment.copy(strings, 0, section, ValueLayout.JAVA_BYTE, 1, strings.length);
            return contains(section, name, arena);
        }
    }

    /**
     * Whether the framed section holds {@code \0name\0}, found by libc's {@code memmem}: the
     * section is searched where it lies, with no copy on the heap and no byte loop of ours for
     * the JIT to compile on the spot.
     */
    static boolean contains(MemorySegment section, String name, Arena arena) {
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            return false; // a name is one NUL-free string
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment needle = arena.allocate(utf8.length + 2L);
        MemorySegment.copy(utf8, 0, needle, ValueLayout.JAVA_BYTE, 1, utf8.length);
        return MEMMEM.call(section.address(), section.byteSize(), needle.address(), needle.byteSize()) != 0;
    }
}
