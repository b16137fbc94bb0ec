package io.jfrebpf.agent.os;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfMap;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.BpfProgram;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Syscall number ↔ name, as the running kernel has them: {@code bpf/syscall_table.bpf.c} copies
 * the kernel's own syscall metadata (the section between {@code __start_syscalls_metadata} and
 * {@code __stop_syscalls_metadata}, which ftrace fills at boot) into a map. Where that cannot run
 * (no privileges, no ftrace syscalls), the system's kernel headers are the fallback, and
 * {@link #source()} says which.
 */
public final class SyscallTable {
    static final int MAX_NR = 1024;
    static final int NAME_LEN = 64;
    static final Path HEADER = Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");

    private final Map<Integer, String> names;
    private final Map<String, Integer> numbers = new HashMap<>();
    private final String source;

    SyscallTable(Map<Integer, String> names, String source) {
        this.names = Map.copyOf(names);
        this.source = source;
        names.forEach((nr, name) -> numbers.putIfAbsent(name, nr));
    }

    public static SyscallTable load() {
        try {
            Map<Integer, String> kernel = fromKernel();
            if (kernel.size() > 100) {
                return new SyscallTable(kernel, "the running kernel's syscall metadata");
            }
            Log.debug("syscall names: the kernel gave only %d; using %s", kernel.size(), HEADER);
        } catch (Exception e) {
            Log.debug("syscall names: cannot read them from the kernel (%s); using %s", e.getMessage(), HEADER);
        }
        try {
            return new SyscallTable(parseHeader(Files.readString(HEADER)), HEADER.toString());
        } catch (Exception e) {
            Log.warn("syscall names unavailable (kernel and %s): events carry syscall_<number>", HEADER);
            return new SyscallTable(Map.of(), "nowhere: names are syscall_<number>");
        }
    }

    static Map<Integer, String> fromKernel() throws Exception {
        Map<Integer, String> names = new HashMap<>();
        try (BpfObject object = BpfObject.openResource("syscall_table")) {
            object.load();
            BpfProgram program = object.programs().get(0);
            int rc = program.testRun();
            if (rc != 0) {
                throw new IllegalStateException("syscall_table program returned " + rc);
            }
            BpfMap map = object.map("names");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment key = arena.allocate(ValueLayout.JAVA_INT);
                MemorySegment value = arena.allocate(map.valueSize());
                for (int nr = 0; nr < Math.min(MAX_NR, map.maxEntries()); nr++) {
                    key.set(ValueLayout.JAVA_INT, 0, nr);
                    if (!map.lookup(key, value)) {
                        continue;
                    }
                    String name = cString(value);
                    if (name.startsWith("sys_")) {
                        name = name.substring(4);
                    }
                    if (!name.isEmpty()) {
                        names.put(nr, name);
                    }
                }
            }
        }
        return names;
    }

    private static String cString(MemorySegment value) {
        int n = 0;
        while (n < value.byteSize() && value.get(ValueLayout.JAVA_BYTE, n) != 0) {
            n++;
        }
        byte[] bytes = new byte[n];
        MemorySegment.copy(value, ValueLayout.JAVA_BYTE, 0, bytes, 0, n);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private static final Pattern DEFINE = Pattern.compile("(?m)^#define __NR_(\\w+)\\s+(\\d+)\\s*$");

    static Map<Integer, String> parseHeader(String text) {
        Map<Integer, String> names = new HashMap<>();
        Matcher m = DEFINE.matcher(text);
        while (m.find()) {
            names.putIfAbsent(Integer.parseInt(m.group(2)), m.group(1));
        }
        return names;
    }

    /** The name of a syscall number, or {@code syscall_<nr>}. */
    public String name(int nr) {
        String n = names.get(nr);
        return n != null ? n : "syscall_" + nr;
    }

    public OptionalInt number(String name) {
        Integer nr = numbers.get(name);
        return nr == null ? OptionalInt.empty() : OptionalInt.of(nr);
    }

    public int size() {
        return names.size();
    }

    public String source() {
        return source;
    }
}
