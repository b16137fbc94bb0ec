package io.jfrebpf.agent.os;

import java.nio.file.Files;
import java.nio.file.Path;

/** The effective capabilities of this process, from {@code /proc/self/status}. */
public final class Capabilities {
    public static final int CAP_SYS_PTRACE = 19;
    public static final int CAP_SYS_ADMIN = 21;
    public static final int CAP_SYS_RESOURCE = 24;
    public static final int CAP_PERFMON = 38;
    public static final int CAP_BPF = 39;

    private final long effective;

    private Capabilities(long effective) {
        this.effective = effective;
    }

    public static Capabilities self() {
        try {
            return parse(Files.readString(Path.of("/proc/self/status")));
        } catch (Exception e) {
            return new Capabilities(0);
        }
    }

    static Capabilities parse(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                return new Capabilities(Long.parseUnsignedLong(line.substring(7).strip(), 16));
            }
        }
        return new Capabilities(0);
    }

    public boolean has(int cap) {
        return (effective & (1L << cap)) != 0;
    }
}
