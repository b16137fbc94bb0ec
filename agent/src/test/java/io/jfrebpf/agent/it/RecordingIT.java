package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.ofType;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.item.ItemFilters;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;

/** The merged file: JVM and eBPF events on one clock, readable by every JFR tool. */
class RecordingIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    /** Environment variables often carry secrets (Kubernetes injects them so): JFR's event of them is off unless asked for. */
    @Test
    void environmentVariablesStayOutUnlessAskedFor(@TempDir Path dir) throws Exception {
        Path off = dir.resolve("off.jfr");
        ChildJvm.workload(Workloads.Hello.class).env("DB_PASSWORD", "hunter2").agent("file=" + off + ",probes=cpu").run(dir)
                .assertSucceeded();
        List<RecordedEvent> events = Recordings.read(off);
        assertTrue(Recordings.ofType(events, "jdk.InitialEnvironmentVariable").isEmpty(), "no environment in the file");
        assertFalse(Recordings.ofType(events, "jdk.JVMInformation").isEmpty(), "the rest of JFR's defaults are there");
        Path on = dir.resolve("on.jfr");
        ChildJvm.workload(Workloads.Hello.class).env("DB_PASSWORD", "hunter2").agent("file=" + on + ",probes=cpu,jfr.environment=true")
                .run(dir).assertSucceeded();
        assertTrue(Recordings.where(Recordings.read(on), "jdk.InitialEnvironmentVariable",
                e -> "DB_PASSWORD".equals(e.getString("key"))).size() == 1, "jfr.environment=true records it");
    }

    @Test
    void oneFileHoldsTheJvmsEventsAndOursOnTheSameClockAndEveryToolReadsIt(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("r.jfr");
        Path data = Files.createDirectory(dir.resolve("data"));
        Files.writeString(data.resolve("relative.txt"), "x");
        for (int i = 0; i < 3; i++) {
            Files.writeString(data.resolve("f-" + i), "x");
        }
        Instant before = Instant.now();
        ChildJvm.workload(Workloads.OpenFiles.class, data.toString(), "3").agent("file=" + recording).in(data).run(dir)
                .assertSucceeded();
        Instant after = Instant.now();

        List<RecordedEvent> events = Recordings.read(recording);
        Map<String, Long> byType = new TreeMap<>();
        events.forEach(e -> byType.merge(e.getEventType().getName(), 1L, Long::sum));
        assertTrue(byType.getOrDefault("jdk.JVMInformation", 0L) >= 1, "JVM's own events missing: " + byType);
        assertTrue(byType.keySet().stream().filter(t -> t.startsWith("jdk.")).count() > 10, "JVM's own events: " + byType);
        List<RecordedEvent> opens = ofType(events, "ebpf.FileOpen");
        assertTrue(opens.size() >= 5, "file opens: " + byType);

        // Same clock: every eBPF event falls inside the wall-clock span of the run, and the
        // opener thread's file opens lie between its jdk.ThreadStart and jdk.ThreadEnd.
        for (RecordedEvent e : opens) {
            assertTrue(!e.getStartTime().isBefore(before.minusMillis(5)) && !e.getStartTime().isAfter(after),
                    e.getStartTime() + " outside " + before + ".." + after);
        }
        RecordedEvent start = ofType(events, "jdk.ThreadStart").stream()
                .filter(e -> "opener".equals(e.getThread("thread").getJavaName())).findFirst().orElseThrow();
        String dataDir = data.toRealPath() + "/";
        List<RecordedEvent> openerOpens = opens.stream().filter(e -> "opener".equals(Recordings.javaName(e))
                && e.getString("path").startsWith(dataDir)).toList();
        assertEquals(5, openerOpens.size(), "opener's opens under " + dataDir + ": " + openerOpens);
        for (RecordedEvent e : openerOpens) {
            assertTrue(e.getStartTime().isAfter(start.getStartTime()), e.getStartTime() + " before thread start " + start.getStartTime());
            assertTrue(Duration.between(start.getStartTime(), e.getStartTime()).toMillis() < 2000, "far from the thread start");
        }

        List<RecordedEvent> status = ofType(events, "ebpf.ProbeStatus");
        Map<String, RecordedEvent> statusByProbe = new TreeMap<>();
        status.forEach(s -> statusByProbe.put(s.getString("probe"), s));
        assertEquals(List.of("cpu", "file", "offcpu", "postgres", "tcp"), List.copyOf(statusByProbe.keySet()));
        RecordedEvent file = statusByProbe.get("file");
        assertTrue(file.getBoolean("attached"), file.toString());
        assertEquals(opens.size(), file.getLong("events"));
        assertEquals(0, file.getLong("lost"));
        assertTrue(file.getString("reason").contains("uprobe_multi for pid"), file.getString("reason"));

        // JDK Mission Control's parser
        IItemCollection items = JfrLoaderToolkit.loadEvents(recording.toFile());
        assertEquals(opens.size(), count(items.apply(ItemFilters.type("ebpf.FileOpen"))));
        assertTrue(count(items.apply(ItemFilters.type("jdk.JVMInformation"))) >= 1);

        // the JDK's jfr tool
        String print = jfr(dir, "print", "--events", "ebpf.FileOpen", recording.toString());
        assertTrue(print.contains(data.toRealPath().resolve("f-0").toString()), print);
        assertTrue(print.contains("javaThreadId"), print);
        String summary = jfr(dir, "summary", recording.toString());
        assertTrue(summary.contains("ebpf.FileOpen") && summary.contains("jdk.JVMInformation"), summary);
    }

    @Test
    void durationEndsTheRecordingWhileTheApplicationGoesOn(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("r.jfr");
        ChildJvm.Result r = ChildJvm.workload(Workloads.Busy.class, "4000").agent("file=" + recording + ",duration=1s")
                .run(dir).assertSucceeded();
        String out = r.output();
        int written = out.indexOf("recording written to " + recording);
        assertTrue(written >= 0 && written < out.indexOf("busy done"), out);
        List<RecordedEvent> events = Recordings.read(recording);
        assertFalse(ofType(events, "ebpf.FileOpen").isEmpty());
        assertTrue(events.stream().anyMatch(e -> e.getEventType().getName().startsWith("jdk.")));
    }

    @Test
    void jfrNoneWritesOnlyOurEvents(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("r.jfr");
        ChildJvm.workload(Workloads.Hello.class).agent("file=" + recording + ",jfr=none").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);
        assertFalse(ofType(events, "ebpf.ProbeStatus").isEmpty());
        assertTrue(events.stream().noneMatch(e -> e.getEventType().getName().startsWith("jdk.")), "JVM events with jfr=none");
    }

    private static long count(IItemCollection items) {
        return items.stream().mapToLong(i -> i.getItemCount()).sum();
    }

    static String jfr(Path dir, String... args) throws Exception {
        Path tool = Path.of(System.getProperty("java.home"), "bin", "jfr");
        Path log = Files.createTempFile(dir, "jfr", ".txt");
        List<String> command = new java.util.ArrayList<>(List.of(tool.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "jfr tool hung");
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), "jfr " + String.join(" ", args) + ":\n" + out);
        return out;
    }
}
