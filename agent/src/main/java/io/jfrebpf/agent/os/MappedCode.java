package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much code this process maps, from {@code /proc/self/status}: VmExe + VmLib, the kernel's
 * count of executable, non-writable mappings (mm->exec_vm). It changes when a library is
 * dlopen'd or unloaded, and not when threads start or the heap grows: a read of ~100 us that
 * tells whether the ~1,000 lines of {@code /proc/self/maps} (~2 ms) are worth reading again.
 */
public final class MappedCode {
    private MappedCode() {
    }

    /** kB of code mapped now, or -1 if unknown. */
    public static long kb() {
        try {
            return parse(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** VmExe + VmLib of a status text, -1 when either is missing. */
    static long parse(String status) {
        long exe = field(status, "VmExe:");
        long lib = field(status, "VmLib:");
        return exe < 0 || lib < 0 ? -1 : exe + lib;
    }

    private static long field(String status, String name) {
        int at = status.startsWith(name) ? 0 : status.indexOf("\n" + name);
        if (at < 0) {
            return -1;
        }
        int begin = status.indexOf(name, at) + name.length();
        int end = status.indexOf('\n', begin);
        String value = status.substring(begin, end < 0 ? status.length() : end).strip();
        int space = value.indexOf(' ');
        try {
            return Long.parseLong(space < 0 ? value : value.substring(0, space));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
