package io.jfrebpf.agent.os;

import io.jfrebpf.agent.Log;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Syscall number ↔ name. The running kernel keeps no readable table of them (ftrace's syscall
 * metadata pointers sit in init memory freed after boot; the table behind them is a static
 * symbol only {@code CONFIG_KALLSYMS_ALL} would show), so the names come from the running
 * kernel's own UAPI header when its headers are installed, else from the list the build
 * generated from its host's header ({@code /io/jfrebpf/bpf/syscalls.properties}, nothing typed by
 * hand). x86_64 syscall numbers are append-only ABI: an older list only lacks the newest names,
 * which then read {@code syscall_<nr>}. {@link #source()} says which list is in use.
 */
public final class SyscallTable {
    static final String RESOURCE = "/io/jfrebpf/bpf/syscalls.properties";
    static final List<String> KERNEL_HEADERS = List.of(
            "/lib/modules/%s/build/arch/x86/include/generated/uapi/asm/unistd_64.h",
            "/usr/src/linux-headers-%s/arch/x86/include/generated/uapi/asm/unistd_64.h");

    private final Map<Integer, String> names;
    private final Map<String, Integer> numbers = new HashMap<>();
    private final String source;

    SyscallTable(Map<Integer, String> names, String source) {
        this.names = Map.copyOf(names);
        this.source = source;
        names.forEach((nr, name) -> numbers.putIfAbsent(name, nr));
    }

    public static SyscallTable load() {
        String release = KernelInfo.read().release();
        for (String pattern : KERNEL_HEADERS) {
            Path header = Path.of(String.format(pattern, release));
            if (Files.isReadable(header)) {
                try {
                    Map<Integer, String> names = parseHeader(Files.readString(header));
                    if (!names.isEmpty()) {
                        return new SyscallTable(names, "the running kernel's headers (" + header + ")");
                    }
                } catch (IOException e) {
                    Log.debug("syscall names: cannot read %s: %s", header, e.getMessage());
                }
            }
        }
        try (InputStream in = SyscallTable.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                Map<Integer, String> names = parseProperties(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
                if (!names.isEmpty()) {
                    return new SyscallTable(names, "the build's x86_64 syscall list");
                }
            }
        } catch (IOException e) {
            Log.debug("syscall names: cannot read %s: %s", RESOURCE, e.getMessage());
        }
        Log.warn("syscall names unavailable: events carry syscall_<number>");
        return new SyscallTable(Map.of(), "nowhere: names are syscall_<number>");
    }

    private static final Pattern DEFINE = Pattern.compile("(?m)^#define __NR_(\\w+)\\s+(\\d+)\\s*$");
    private static final Pattern ENTRY = Pattern.compile("(?m)^(\\d+)=(\\w+)\\s*$");

    static Map<Integer, String> parseHeader(String text) {
        return parse(DEFINE.matcher(text), 2, 1);
    }

    static Map<Integer, String> parseProperties(String text) {
        return parse(ENTRY.matcher(text), 1, 2);
    }

    private static Map<Integer, String> parse(Matcher m, int nrGroup, int nameGroup) {
        Map<Integer, String> names = new HashMap<>();
        while (m.find()) {
            names.putIfAbsent(Integer.parseInt(m.group(nrGroup)), m.group(nameGroup));
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
