package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedThread;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Events on virtual threads name the virtual thread, as JFR's own events do, and the carrier in
 * carrierThread: under each garbage collector, since the mounted thread is read from the
 * JavaThread while the collector may be moving the thread objects.
 */
class VirtualThreadsIT {
    static final int N = 2_000;

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-XX:+UseG1GC", "-XX:+UseZGC", "-XX:+UseParallelGC", "-XX:+UseSerialGC"})
    void everyOpenOfAVirtualThreadNamesThatVirtualThreadAndItsCarrier(String gc, @TempDir Path dir) throws Exception {
        Path data = Files.createDirectory(dir.resolve("data")).toRealPath();
        for (int i = 0; i < N; i++) {
            Files.writeString(data.resolve("v-" + i), "v" + i);
        }
        Path recording = dir.resolve("r.jfr");
        ChildJvm.Result result = ChildJvm.workload(VirtualThreadWorkloads.Opens.class, data.toString(), String.valueOf(N))
                .flag(gc).agent("file=" + recording + ",probes=file").run(dir).assertSucceeded();
        Map<String, Long> ids = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^(vt-\\d+) id=(\\d+)$").matcher(result.output());
        while (m.find()) {
            ids.put(m.group(1), Long.parseLong(m.group(2)));
        }
        assertEquals(N, ids.size(), "virtual threads the workload printed");

        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> opens = where(events, "ebpf.FileOpen", e -> e.getString("path").startsWith(data + "/"));
        assertEquals(N, opens.size(), "opens under " + data);
        Map<String, Integer> seen = new HashMap<>();
        for (RecordedEvent e : opens) {
            String name = "vt-" + e.getString("path").substring(data.toString().length() + 3);
            RecordedThread t = e.getThread();
            assertNotNull(t, "thread of " + e);
            assertTrue(t.isVirtual(), gc + ": " + name + "'s open names a platform thread: " + t);
            assertEquals(ids.get(name), t.getJavaThreadId(), gc + ": Java id of " + t + " for " + name);
            assertEquals(name, t.getJavaName(), gc + ": name of " + t);
            String carrier = e.getString("carrierThread");
            assertTrue(carrier != null && carrier.startsWith("ForkJoinPool-"), gc + ": carrier of " + name + ": " + carrier);
            seen.merge(name, 1, Integer::sum);
        }
        assertEquals(N, seen.size(), "distinct virtual threads named");

        List<RecordedEvent> status = where(events, "ebpf.ProbeStatus", e -> true);
        assertTrue(status.stream().anyMatch(e -> "file".equals(e.getString("probe")) && e.getString("virtualThreads") != null
                && e.getString("virtualThreads").startsWith("mounted virtual threads named")),
                "ebpf.ProbeStatus says how mounted threads are read: " + status);
    }
}
