package io.jfrebpf.agent.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.Options;
import io.jfrebpf.agent.it.PyroscopeServer;
import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.events.CPUSampleEvent;
import io.jfrebpf.events.NativeAllocationEvent;
import io.jfrebpf.events.OffCPUEvent;
import io.jfrebpf.events.TcpConnectionEvent;
import io.jfrebpf.events.UploadStatusEvent;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The upload against the test server on loopback, which answers as grafana/pyroscope's ingest
 * handler does (no privileges needed): names, labels, credentials, what is retried and when,
 * what is lost and where it is counted, and how long the end waits.
 */
class PyroscopeUploadTest {
    static final String SECRET = "glc_s3cret";
    static final long PERIOD = 1_000_000_000L / 99;

    private ScheduledExecutorService executor;
    private PyroscopeServer server;

    @BeforeEach
    void start() throws Exception {
        executor = Executors.newSingleThreadScheduledExecutor();
        server = PyroscopeServer.start();
    }

    @AfterEach
    void stop() {
        executor.shutdownNow();
        server.close();
    }

    PyroscopeUpload upload(String options, Map<String, String> env) {
        PyroscopeTarget target = Options.fromAgentArgs("upload=" + server.url() + (options.isEmpty() ? "" : "," + options), env)
                .upload().orElseThrow();
        return new PyroscopeUpload(target, "checkout", Map.of("host", "web-1"), (task, ms) -> {
            executor.schedule(task, ms, TimeUnit.MILLISECONDS);
            return true;
        }, 99);
    }

    static JfrStack stack(String method) {
        return new JfrStack(List.of(new JfrFrame("com.example.Shop", method, "()V", 12, 3, "JIT compiled"),
                new JfrFrame("java.lang.Thread", "run", "()V", 1583, 17, "Interpreted")), false);
    }

    /** Four kinds of events, the first an off-CPU one: the names must not depend on it. */
    static void feed(PyroscopeUpload u) {
        u.recorded(new OffCPUEvent(), 5_000_000, stack("sleep"));
        for (int i = 0; i < 3; i++) {
            u.recorded(new CPUSampleEvent(), 0, stack("burn"));
        }
        TcpConnectionEvent c = new TcpConnectionEvent();
        c.bytesSent = 300;
        c.bytesReceived = 40_000;
        u.recorded(c, 1_000_000, stack("call"));
        NativeAllocationEvent a = new NativeAllocationEvent();
        a.size = 4096;
        a.weight = 4096;
        u.recorded(a, 0, stack("buffer"));
    }

    static void await(BooleanSupplier condition, long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(20);
        }
    }

    @Test
    void eachKindIsStoredUnderItsOwnNameWithTheServicesLabels() {
        PyroscopeUpload u = upload("", Map.of());
        feed(u);
        u.finish();
        List<PyroscopeServer.Stored> stored = server.stored();
        assertEquals(Set.of("process_cpu", "block", "tcp", "memory"), stored.stream().map(PyroscopeServer.Stored::name).collect(Collectors.toSet()));
        assertEquals(Set.of("process_cpu:cpu:nanoseconds:cpu:nanoseconds", "block:off_cpu:nanoseconds::", "tcp:bytes_sent:bytes::",
                "tcp:bytes_received:bytes::", "memory:malloc_objects:count::", "memory:malloc_bytes:bytes::"),
                stored.stream().flatMap(s -> s.profileTypes().stream()).collect(Collectors.toSet()));
        for (PyroscopeServer.Stored s : stored) {
            assertEquals("checkout", s.labels().get("service_name"));
            assertEquals("web-1", s.labels().get("host"));
            assertEquals("jfr-ebpf", s.labels().get("pyroscope_spy"));
            assertFalse(s.labels().containsKey("pid"));
        }
        PyroscopeServer.Stored cpu = stored.stream().filter(s -> s.name().equals("process_cpu")).findFirst().orElseThrow();
        assertEquals(3 * PERIOD, cpu.profile().totalWith("cpu", "com/example/Shop.burn"));
        for (PyroscopeServer.Request r : server.requests()) {
            assertEquals(200, r.status(), r.message());
            assertFalse(r.query().containsKey("format"), "a multipart body goes without format=");
        }
        UploadStatusEvent status = u.status();
        assertEquals(4, status.sent);
        assertEquals(0, status.lost);
        assertEquals(server.url(), status.server);
    }

    @Test
    void nothingIsSentForAPeriodWithoutEvents() throws Exception {
        PyroscopeUpload u = upload("upload.interval=1s", Map.of());
        Thread.sleep(1_500);
        u.finish();
        assertEquals(List.of(), server.requests());
        assertEquals(0, u.status().sent);
    }

    @Test
    void theLiveDataIsPushedEveryPeriodPeriodAfterPeriod() throws Exception {
        PyroscopeUpload u = upload("upload.interval=1s", Map.of());
        u.recorded(new CPUSampleEvent(), 0, stack("first"));
        await(() -> !server.stored().isEmpty(), 5_000);
        assertEquals(1, server.stored().size(), "pushed during the run, not at its end");
        u.recorded(new CPUSampleEvent(), 0, stack("second"));
        u.finish();
        List<PyroscopeServer.Stored> stored = server.stored();
        assertEquals(2, stored.size());
        PyroscopeServer.Stored first = stored.get(0);
        PyroscopeServer.Stored second = stored.get(1);
        assertEquals(first.profile().timeNanos() + first.profile().durationNanos(), second.profile().timeNanos(),
                "one period ends where the next begins");
        assertEquals(PERIOD, second.profile().totalWith("cpu", "Shop.second"));
        assertEquals(0, second.profile().totalWith("cpu", "Shop.first"), "nothing sent twice");
    }

    @Test
    void credentialsAndTenantAsAGatewayAndAMultiTenantServerWantThem() {
        server.multitenancy(true).requireAuthorization("Basic " + Base64.getEncoder().encodeToString(("123456:" + SECRET)
                .getBytes(StandardCharsets.UTF_8)));
        PyroscopeUpload u = upload("upload.user=123456,upload.tenant=team-a", Map.of("PYROSCOPE_BASIC_AUTH_PASSWORD", SECRET));
        feed(u);
        u.finish();
        assertEquals(4, server.stored().size());
        assertTrue(server.requests().stream().allMatch(r -> "team-a".equals(r.headers().get("X-Scope-OrgID"))));
        assertEquals(0, u.status().lost);
    }

    @Test
    void refusedCredentialsAreFinalCountedAndNeverShown() {
        server.multitenancy(true).requireAuthorization("Basic other");
        PyroscopeUpload u = upload("upload.token=" + SECRET, Map.of());
        feed(u);
        u.finish();
        assertEquals(4, server.requests().size(), "each profile once: a 401 is not retried");
        assertTrue(server.requests().stream().allMatch(r -> r.status() == 401));
        UploadStatusEvent status = u.status();
        assertEquals(4, status.rejected);
        assertEquals(4, status.lost);
        assertTrue(status.lastProblem.startsWith("HTTP 401"), status.lastProblem);
        assertFalse(status.lastProblem.contains(SECRET) || status.server.contains(SECRET));
    }

    @Test
    void withoutItsTenantAMultiTenantServerAnswers401() {
        server.multitenancy(true);
        PyroscopeUpload u = upload("", Map.of());
        u.recorded(new CPUSampleEvent(), 0, stack("burn"));
        u.finish();
        assertEquals(401, server.requests().get(0).status());
        assertEquals(1, u.status().rejected);
    }

    @Test
    void aPassingFailureIsSentAgainAfterItsRetryAfter() throws Exception {
        server.failNext(1, 503, "2", 0);
        PyroscopeUpload u = upload("upload.interval=1s", Map.of());
        u.recorded(new CPUSampleEvent(), 0, stack("burn"));
        await(() -> server.stored().size() == 1, 10_000);
        List<PyroscopeServer.Request> r = server.requests();
        assertEquals(2, r.size());
        assertEquals(503, r.get(0).status());
        assertEquals(200, r.get(1).status());
        assertEquals(r.get(0).query().get("from"), r.get(1).query().get("from"), "the same profile");
        long gapMs = (r.get(1).atNanos() - r.get(0).atNanos()) / 1_000_000;
        assertTrue(gapMs >= 1_900, "after Retry-After: 2 (not the 1 s backoff): " + gapMs + " ms");
        u.finish();
        assertEquals(1, u.status().retries);
        assertEquals(0, u.status().lost);
    }

    @Test
    void rateLimitedRequestsBackOffExponentially() throws Exception {
        server.failNext(2, 429, null, 0);
        PyroscopeUpload u = upload("upload.interval=1s", Map.of());
        u.recorded(new CPUSampleEvent(), 0, stack("burn"));
        await(() -> server.stored().size() == 1, 10_000);
        List<PyroscopeServer.Request> r = server.requests();
        assertEquals(List.of(429, 429, 200), r.stream().map(PyroscopeServer.Request::status).toList());
        long first = (r.get(1).atNanos() - r.get(0).atNanos()) / 1_000_000;
        long second = (r.get(2).atNanos() - r.get(1).atNanos()) / 1_000_000;
        assertTrue(first >= 950 && second >= 1_950, "1 s then 2 s: " + first + ", " + second + " ms");
        u.finish();
        assertEquals(2, u.status().retries);
    }

    @Test
    void aRefusedProfileIsNotSentAgainAndTheNextGoesOn() {
        server.failNext(1, 422, null, 0);
        PyroscopeUpload u = upload("", Map.of());
        u.recorded(new CPUSampleEvent(), 0, stack("burn"));
        u.recorded(new OffCPUEvent(), 1_000, stack("sleep"));
        u.finish();
        assertEquals(List.of(422, 200), server.requests().stream().map(PyroscopeServer.Request::status).toList());
        assertEquals(1, u.status().rejected);
        assertEquals(1, u.status().sent);
    }

    @Test
    void aHangingServerHoldsTheEndAtMostTheExitTimeout() {
        server.failNext(1, 200, null, 12_000);
        PyroscopeUpload u = upload("", Map.of());
        feed(u);
        long t0 = System.nanoTime();
        u.finish();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms <= PyroscopeUpload.EXIT_TIMEOUT.toMillis() + 1_000, "the end waited " + ms + " ms");
        UploadStatusEvent status = u.status();
        assertEquals(4, status.unsent, "the hung one and those behind it");
        assertEquals(4, status.lost);
    }
}
