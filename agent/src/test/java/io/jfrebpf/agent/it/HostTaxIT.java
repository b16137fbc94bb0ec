package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What our JVM attaches, as the kernel lists it (the fdinfo of each BPF link the JVM holds): by
 * default uprobe_multi links on libc (files) and libjvm (virtual threads' freeze and thaw) for our own pid, the CPU sampler's perf events, the
 * scheduler's sched_switch and rseq_update, a thread's return to user mode after a switch (off-CPU), and three TCP/socket tracepoints (their programs return
 * after one comparison for other processes) — no syscall tracepoint, which would tax every
 * process on the host — and the syscall tracepoints only when the syscall probe is asked for.
 * When the JVM is gone, so are its links.
 */
class HostTaxIT {
    /** offcpu, then tcp: connection state changes, socket sends (the last writer), retransmissions. */
    static final List<String> TRACEPOINTS =
            List.of("sched_switch", "rseq_update", "inet_sock_set_state", "sock_send_length", "tcp_retransmit_skb");

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    /** One BPF link of the JVM, as its fdinfo shows it. */
    record Link(int id, String type, Map<String, String> fields, String text) {
        String field(String name) {
            return fields.getOrDefault(name, "");
        }
    }

    @Test
    void defaultProbesAttachOwnPidUprobesTheSchedulerSwitchAndTcpTracepointsOnly(@TempDir Path dir) throws Exception {
        Attached a = attachedWhileRunning(dir, "");
        List<Link> links = a.links();
        assertTrue(links.stream().anyMatch(l -> l.type().equals("uprobe_multi")), links.toString());
        assertTrue(links.stream().anyMatch(l -> l.type().equals("uretprobe_multi")), links.toString());
        for (String tracepoint : TRACEPOINTS) {
            assertEquals(1, links.stream().filter(l -> l.type().equals("raw_tracepoint") && l.field("tp_name").equals(tracepoint))
                    .count(), tracepoint + " in " + links);
        }
        for (Link l : links) {
            boolean ownUprobe = (l.type().equals("uprobe_multi") || l.type().equals("uretprobe_multi"))
                    && l.field("pid").equals(String.valueOf(a.pid()))
                    && (l.field("path").endsWith("libc.so.6") || l.field("path").endsWith("/libjvm.so"));
            boolean tracepoint = l.type().equals("raw_tracepoint") && TRACEPOINTS.contains(l.field("tp_name"));
            boolean cpuSampler = l.type().equals("perf") && l.field("event_type").equals("event");
            assertTrue(ownUprobe || tracepoint || cpuSampler, "unexpected attachment " + l.text());
            assertFalse(l.field("tp_name").startsWith("sys_"), l.text());
        }
        assertEquals(List.of(), a.perfShow().stream().filter(e -> e.contains("probe\"")).toList(),
                "no perf uprobe besides the uprobe_multi links (bpftool perf show lists perf uprobes by pid)");
    }

    @Test
    void theSyscallProbeAttachesTheSyscallTracepoints(@TempDir Path dir) throws Exception {
        List<Link> links = attachedWhileRunning(dir, "probes=syscall").links();
        assertTrue(links.stream().anyMatch(l -> l.type().equals("raw_tracepoint") && l.field("tp_name").equals("sys_enter")),
                links.toString());
        assertTrue(links.stream().anyMatch(l -> l.type().equals("raw_tracepoint") && l.field("tp_name").equals("sys_exit")),
                links.toString());
    }

    record Attached(long pid, List<Link> links, List<String> perfShow) {
    }

    private Attached attachedWhileRunning(Path dir, String probes) throws Exception {
        Path signal = dir.resolve("go");
        Path log = dir.resolve("child.log");
        Process p = ChildJvm.workload(Workloads.WaitForFile.class, signal.toString())
                .agent("file=" + dir.resolve("r.jfr") + (probes.isEmpty() ? "" : "," + probes)).start(log);
        try {
            ChildJvm.awaitOutput(p, log, "ready pid=");
            List<Link> links = links(p.pid());
            List<String> perf = perfShow(p.pid());
            Files.writeString(signal, "go");
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), Files.readString(log));
            List<Integer> left = linkIds();
            for (Link l : links) {
                assertFalse(left.contains(l.id()), "link " + l.text() + " left after exit");
            }
            assertEquals(List.of(), perfShow(p.pid()), "attachments left after exit");
            return new Attached(p.pid(), links, perf);
        } finally {
            p.destroyForcibly();
        }
    }

    /** The BPF links a process holds, from the fdinfo of its bpf_link descriptors. */
    static List<Link> links(long pid) throws IOException {
        List<Link> links = new ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) {
                    continue;
                }
                if (!target.equals("anon_inode:bpf_link")) {
                    continue;
                }
                String info = Files.readString(Path.of("/proc/" + pid + "/fdinfo/" + fd.getFileName()));
                Map<String, String> fields = new LinkedHashMap<>();
                for (String line : info.split("\n")) {
                    int colon = line.indexOf(':');
                    if (colon > 0) {
                        fields.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
                    }
                }
                links.add(new Link(Integer.parseInt(fields.get("link_id")), fields.get("link_type"), fields, info.replace('\n', ' ')));
            }
        }
        return links;
    }

    /** The ids of every BPF link on the host (bpftool link show). */
    static List<Integer> linkIds() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bpftool", "-j", "link", "show").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<Integer> ids = new ArrayList<>();
        Matcher m = Pattern.compile("\"id\":(\\d+)").matcher(out);
        while (m.find()) {
            ids.add(Integer.parseInt(m.group(1)));
        }
        return ids;
    }

    /** Every perf-event attachment the kernel lists for this pid (bpftool perf show), one JSON object each. */
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
