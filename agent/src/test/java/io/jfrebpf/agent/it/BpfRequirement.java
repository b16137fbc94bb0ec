package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Integration tests load real BPF programs: they need root (or CAP_BPF+CAP_PERFMON) and a
 * kernel with BTF. Where that is missing they fail with the reason; they never skip, so a CI
 * run without BPF cannot pass by running nothing.
 */
final class BpfRequirement {
    private BpfRequirement() {
    }

    static void require() {
        try {
            String status = Files.readString(Path.of("/proc/self/status"));
            String uid = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElse("Uid: ?").split("\\s+")[2];
            if (!"0".equals(uid)) {
                fail("integration tests load BPF programs and need root (effective uid is " + uid + "); CI=" + System.getenv("CI"));
            }
            if (!Files.isReadable(Path.of("/sys/kernel/btf/vmlinux"))) {
                fail("integration tests need a kernel with BTF (/sys/kernel/btf/vmlinux is missing)");
            }
        } catch (java.io.IOException e) {
            fail("cannot read /proc/self/status: " + e);
        }
    }
}
