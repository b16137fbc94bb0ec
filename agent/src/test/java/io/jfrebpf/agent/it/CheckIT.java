package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code java -jar jfr-ebpf-agent.jar check}, as root and as nobody. */
class CheckIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @Test
    void asRootEveryAvailableProbeCanTrace(@TempDir Path dir) throws Exception {
        Run r = check(dir, List.of());
        assertEquals(0, r.exit, r.out);
        assertTrue(r.out.matches("(?s).*\\n  syscall +ok +tp_btf.*"), r.out);
        assertTrue(r.out.matches("(?s).*\\n  file +ok +uprobe_multi for pid.*"), r.out);
        assertTrue(r.out.matches("(?s).*\\n  cpu +ok +perf_event cpu-clock at 99 Hz on \\d+ CPUs.*"), r.out);
        assertTrue(r.out.matches("(?s).*\\n  offcpu +ok +tp_btf sched_switch.*"), r.out);
        assertTrue(r.out.matches("(?s).*\\n  tcp +ok +tp_btf inet_sock_set_state, sock_send_length, tcp_retransmit_skb; uretprobe_multi for pid.*"), r.out);
        assertTrue(r.out.matches("(?s).*\\n  malloc +ok +uprobe sessions for pid \\d+ on .*libc.so.6 \\(malloc, calloc, realloc, posix_memalign, aligned_alloc, free\\+9\\).*"), r.out);
        assertTrue(r.out.matches("(?s).*\\n  sched +ok +tp_btf sched_wakeup, sched_wakeup_new, sched_switch.*"), r.out);
        // loads; attaches only to backends serving the JVM's own connections, and check opens none
        assertTrue(r.out.matches("(?s).*\\n  postgres +ok +no colocated PostgreSQL server served this JVM: nothing attached \\((no postmaster seen on this host|postmasters seen: pid \\d+ port \\d+.*)\\).*"), r.out);
        assertTrue(r.out.contains("syscall names: ") && r.out.contains("all available probes can trace"), r.out);
    }

    @Test
    void asNobodyItSaysWhyNot(@TempDir Path dir) throws Exception {
        Run r = check(dir, List.of("runuser", "-u", "nobody", "--"));
        assertEquals(1, r.exit, r.out);
        assertTrue(r.out.matches("(?s).*\\n  file +FAIL +not permitted.*"), r.out);
        assertTrue(r.out.contains("CAP_BPF no"), r.out);
    }

    record Run(int exit, String out) {
    }

    private static Run check(Path dir, List<String> prefix) throws Exception {
        List<String> command = new java.util.ArrayList<>(prefix);
        command.addAll(List.of(ChildJvm.JAVA.toString(), "--enable-native-access=ALL-UNNAMED", "-jar",
                ChildJvm.AGENT_JAR.toString(), "check"));
        Path log = Files.createTempFile(dir, "check", ".txt");
        Process p = new ProcessBuilder(command).directory(Path.of("/tmp").toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        return new Run(p.exitValue(), Files.readString(log));
    }
}
