package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What our JVM attaches, as the kernel lists it (bpftool perf show): by default uprobes for our
 * own pid, the scheduler's sched_switch (off-CPU; the CPU sampler's perf events are not listed
 * there) and three TCP/socket tracepoints (their programs return after one comparison for other
 * processes) — no syscall tracepoint, which would tax every process on the host — and the
 * syscall tracepoints only when the syscall probe is asked for. When the JVM is gone, so are they.
 */
class HostTaxIT {
    /** offcpu, then tcp: connection state changes, socket sends (the last writer), retransmissions. */
    static final List<String> TRACEPOINTS =
            List.of("sched_switch", "inet_sock_set_state", "sock_send_length", "tcp_retransmit_skb");

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @Test
    void defaultProbesAttachOwnPidUprobesTheSchedulerSwitchAndTcpTracepointsOnly(@TempDir Path dir) throws Exception {
        List<String> attachments = attachmentsWhileRunning(dir, "");
        assertTrue(attachments.stream().anyMatch(a -> a.contains("\"fd_type\":\"uprobe\"")), attachments.toString());
        for (String tracepoint : TRACEPOINTS) {
            assertEquals(1, attachments.stream().filter(a -> a.contains("\"tracepoint\":\"" + tracepoint + "\"")).count(),
                    tracepoint + " in " + attachments);
        }
        for (String a : attachments) {
            boolean uprobe = (a.contains("\"fd_type\":\"uprobe\"") || a.contains("\"fd_type\":\"uretprobe\""))
                    && a.contains("libc.so.6");
            boolean tracepoint = a.contains("\"fd_type\":\"raw_tracepoint\"")
                    && TRACEPOINTS.stream().anyMatch(t -> a.contains("\"tracepoint\":\"" + t + "\""));
            assertTrue(uprobe || tracepoint, a);
            assertFalse(a.contains("sys_enter") || a.contains("sys_exit"), a);
        }
    }

    @Test
    void theSyscallProbeAttachesTheSyscallTracepoints(@TempDir Path dir) throws Exception {
        List<String> attachments = attachmentsWhileRunning(dir, "probes=syscall");
        assertTrue(attachments.stream().anyMatch(a -> a.contains("\"fd_type\":\"raw_tracepoint\"") && a.contains("sys_enter")), attachments.toString());
        assertTrue(attachments.stream().anyMatch(a -> a.contains("\"fd_type\":\"raw_tracepoint\"") && a.contains("sys_exit")), attachments.toString());
    }

    private List<String> attachmentsWhileRunning(Path dir, String probes) throws Exception {
        Path signal = dir.resolve("go");
        Path log = dir.resolve("child.log");
        Process p = ChildJvm.workload(Workloads.WaitForFile.class, signal.toString())
                .agent("file=" + dir.resolve("r.jfr") + (probes.isEmpty() ? "" : "," + probes)).start(log);
        try {
            ChildJvm.awaitOutput(p, log, "ready pid=");
            List<String> mine = perfShow(p.pid());
            Files.writeString(signal, "go");
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), Files.readString(log));
            assertEquals(List.of(), perfShow(p.pid()), "attachments left after exit");
            return mine;
        } finally {
            p.destroyForcibly();
        }
    }

    /** Every attachment the kernel lists for this pid, one JSON object each. */
    static List<String> perfShow(long pid) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bpftool", "-j", "perf", "show").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> mine = new ArrayList<>();
        Matcher m = Pattern.compile("\\{[^{}]*\\}").matcher(out);
        while (m.find()) {
            if (m.group().contains("\"pid\":" + pid + ",")) {
                mine.add(m.group());
            }
        }
        return mine;
    }
}
