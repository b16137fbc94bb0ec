package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * upload= from a traced JVM to {@link PyroscopeServer}, which answers as grafana/pyroscope's
 * ingest handler does (format and body precedence, validation, limits, status codes, tenancy) behind
 * a gateway that checks basic auth: the live profiles arrive during the run, under stable names,
 * each event of the recording exactly once, and credentials appear nowhere but in the requests.
 */
class UploadIT {
    static final String SECRET = "glc_eyJvIjoiMTIzIn0-s3cret";
    static final long PERIOD = 1_000_000_000L / 99;

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aRunWithoutSlicesIsFedToTheServerAsItGoesEachEventOnce(@TempDir Path dir) throws Exception {
        ChildJvm.Result r;
        List<PyroscopeServer.Request> requests;
        List<PyroscopeServer.Stored> stored;
        try (PyroscopeServer server = PyroscopeServer.start()) {
            server.multitenancy(true).requireAuthorization(basic("123456", SECRET)).failNext(1, 503, "1", 0);
            r = ChildJvm.workload(CpuBurn.class, "1", "5").agent("file=" + dir.resolve("up.jfr") + ",probes=cpu+offcpu,upload="
                    + server.url() + ",upload.interval=1s,upload.user=123456,upload.tenant=team-a,service=checkout,log=debug")
                    .env("PYROSCOPE_BASIC_AUTH_PASSWORD", SECRET).run(dir).assertSucceeded();
            requests = server.requests();
            stored = server.stored();
        }
        String out = r.output();
        List<RecordedEvent> events = Recordings.read(dir.resolve("up.jfr"));

        // as it goes: one period a second, the first refused once (503) and sent again
        assertEquals(503, requests.get(0).status(), out);
        assertTrue(requests.stream().skip(1).allMatch(q -> q.status() == 200),
                requests.stream().map(q -> q.status() + " " + q.message()).toList() + "\n" + out);
        assertEquals(requests.get(0).query().get("from"), requests.get(1).query().get("from"), "the refused profile again");
        long spreadMs = (requests.get(requests.size() - 1).atNanos() - requests.get(1).atNanos()) / 1_000_000;
        assertTrue(spreadMs >= 2_500, "profiles pushed during the run, not only at its end: over " + spreadMs + " ms");

        // under stable names, as a service's series
        assertEquals(Set.of("process_cpu", "block"), stored.stream().map(PyroscopeServer.Stored::name).collect(Collectors.toSet()));
        for (PyroscopeServer.Stored s : stored) {
            assertEquals(List.of(s.name().equals("process_cpu") ? "process_cpu:cpu:nanoseconds:cpu:nanoseconds" : "block:off_cpu:nanoseconds::"),
                    s.profileTypes());
            assertEquals("checkout", s.labels().get("service_name"));
            assertFalse(s.labels().get("host").isEmpty());
            assertFalse(s.labels().containsKey("pid") || s.labels().containsKey("container_id"), s.labels().toString());
        }
        assertTrue(requests.stream().allMatch(q -> "team-a".equals(q.headers().get("X-Scope-OrgID"))));

        // each event of the recording exactly once
        long recordedCpu = events.stream().filter(e -> e.getEventType().getName().equals("ebpf.CPUSample") && e.getStackTrace() != null).count();
        long uploadedCpu = total(stored, "process_cpu", "cpu", null);
        assertEquals(recordedCpu * PERIOD, uploadedCpu, "CPU samples: " + recordedCpu + " recorded");
        assertTrue(total(stored, "process_cpu", "cpu", "CpuBurn.burn") > 300 * PERIOD, "burning in CpuBurn.burn");
        long recordedOff = events.stream().filter(e -> e.getEventType().getName().equals("ebpf.OffCPU") && e.getStackTrace() != null)
                .mapToLong(e -> e.getDuration().toNanos()).sum();
        long uploadedOff = total(stored, "block", "off_cpu", null);
        assertTrue(Math.abs(recordedOff - uploadedOff) <= recordedOff / 1000 + 1_000_000, recordedOff + " ns recorded, " + uploadedOff + " sent");

        // counted in the recording; no credential anywhere: output (log=debug), recording
        RecordedEvent status = events.stream().filter(e -> e.getEventType().getName().equals("ebpf.UploadStatus"))
                .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no ebpf.UploadStatus\n" + out));
        assertEquals(requests.size() - 1, status.getLong("sent"), out);
        assertEquals(1, status.getLong("retries"));
        assertEquals(0, status.getLong("lost"));
        for (String secret : List.of(SECRET, basic("123456", SECRET).substring(6))) {
            assertFalse(out.contains(secret), "credentials in the output:\n" + out);
            assertFalse(new String(Files.readAllBytes(dir.resolve("up.jfr")), StandardCharsets.ISO_8859_1).contains(secret),
                    "credentials in the recording");
            for (RecordedEvent e : events) {
                for (ValueDescriptor field : e.getFields()) {
                    if (field.getTypeName().equals("java.lang.String")) {
                        String v = e.getString(field.getName());
                        assertFalse(v != null && v.contains(secret), "credentials in " + e.getEventType().getName() + "." + field.getName());
                    }
                }
            }
        }
    }

    @Test
    void slicesAreNotSentAgain(@TempDir Path dir) throws Exception {
        ChildJvm.Result r;
        List<PyroscopeServer.Stored> stored;
        try (PyroscopeServer server = PyroscopeServer.start()) {
            r = ChildJvm.workload(CpuBurn.class, "1", "4").agent("file=" + dir.resolve("s.jfr") + ",probes=cpu,interval=1s,upload="
                    + server.url() + ",upload.interval=2s,service=checkout").run(dir).assertSucceeded();
            assertTrue(server.requests().stream().allMatch(q -> q.status() == 200), r.output());
            stored = server.stored();
        }
        List<RecordedEvent> events = new ArrayList<>();
        try (Stream<Path> slices = Files.list(dir)) {
            for (Path slice : slices.filter(p -> p.getFileName().toString().startsWith("s-")).toList()) {
                events.addAll(Recordings.read(slice));
            }
        }
        long recordedCpu = events.stream().filter(e -> e.getEventType().getName().equals("ebpf.CPUSample") && e.getStackTrace() != null).count();
        assertTrue(recordedCpu > 200, recordedCpu + " samples in the slices\n" + r.output());
        assertEquals(recordedCpu * PERIOD, total(stored, "process_cpu", "cpu", null), "every sample of every slice once");
    }

    @Test
    void aServerThatKeepsFailingCostsTheApplicationNothing(@TempDir Path dir) throws Exception {
        ChildJvm.Result r;
        long t0 = System.nanoTime();
        try (PyroscopeServer server = PyroscopeServer.start()) {
            server.failNext(10_000, 500, null, 0);
            r = ChildJvm.workload(CpuBurn.class, "1", "3").agent("file=" + dir.resolve("down.jfr") + ",probes=cpu,upload="
                    + server.url() + ",upload.interval=1s").run(dir).assertSucceeded();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 20, "the JVM's exit is not held by a failing server: " + seconds + " s");
        List<String> warnings = r.agentLines().stream().filter(l -> l.contains("warn: upload: HTTP 500")).toList();
        assertEquals(1, warnings.size(), "logged once:\n" + r.output());
        RecordedEvent status = Recordings.ofType(Recordings.read(dir.resolve("down.jfr")), "ebpf.UploadStatus").getLast();
        assertEquals(0, status.getLong("sent"));
        assertTrue(status.getLong("retries") >= 1 && status.getLong("lost") >= 1, status.toString());
        assertEquals(status.getLong("lost"), status.getLong("expired") + status.getLong("unsent"), status.toString());
        assertTrue(status.getString("lastProblem").startsWith("HTTP 500"), status.toString());
    }

    /** The sum of one sample type over the stored profiles of one name (on the samples through {@code function}). */
    static long total(List<PyroscopeServer.Stored> stored, String name, String type, String function) {
        return stored.stream().filter(s -> s.name().equals(name)).mapToLong(s -> s.profile().totalWith(type, function)).sum();
    }
}
