package io.jfrebpf.agent.os;

import java.nio.file.Files;
import java.nio.file.Path;

/** What the kernel offers a BPF tracer, for the check command. */
public record KernelInfo(String release, boolean btf, String perfEventParanoid, String unprivilegedBpfDisabled) {
    public static KernelInfo read() {
        return new KernelInfo(file("/proc/sys/kernel/osrelease") + " " + System.getProperty("os.arch"),
                Files.isReadable(Path.of("/sys/kernel/btf/vmlinux")),
                file("/proc/sys/kernel/perf_event_paranoid"), file("/proc/sys/kernel/unprivileged_bpf_disabled"));
    }

    private static String file(String path) {
        try {
            return Files.readString(Path.of(path)).strip();
        } catch (Exception e) {
            return "?";
        }
    }
}
