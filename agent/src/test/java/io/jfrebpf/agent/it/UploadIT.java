package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * upload= against a real HTTP server on loopback (the JDK's), which checks each request as
 * Pyroscope's ingest API expects it: POST /ingest, name/from/until/format query parameters, a
 * multipart body with the gzipped pprof profile (decoded here) and its sample_type_config; it
 * refuses the first request (503) to make the agent retry.
 */
class UploadIT {
    record Request(String method, String path, Map<String, String> query, String contentType, byte[] body, long atMillis) {
    }

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    static HttpServer server(List<Request> got, int refuseFirst, int status) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        AtomicInteger n = new AtomicInteger();
        s.createContext("/", (HttpExchange e) -> {
            byte[] body = e.getRequestBody().readAllBytes();
            Map<String, String> query = new HashMap<>();
            String raw = e.getRequestURI().getRawQuery();
            if (raw != null) {
                for (String kv : raw.split("&")) {
                    int eq = kv.indexOf('=');
                    query.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
            got.add(new Request(e.getRequestMethod(), e.getRequestURI().getPath(), query,
                    e.getRequestHeaders().getFirst("Content-Type"), body, System.currentTimeMillis()));
            int code = n.incrementAndGet() <= refuseFirst ? 503 : status;
            e.sendResponseHeaders(code, -1);
            e.close();
        });
        s.start();
        return s;
    }

    /** The parts of a multipart/form-data body, by field name. */
    static Map<String, byte[]> parts(Request r) {
        Matcher b = Pattern.compile("boundary=(.+)").matcher(r.contentType());
        assertTrue(r.contentType().startsWith("multipart/form-data") && b.find(), r.contentType());
        byte[] delimiter = ("--" + b.group(1)).getBytes(StandardCharsets.ISO_8859_1);
        String body = new String(r.body(), StandardCharsets.ISO_8859_1);
        Map<String, byte[]> parts = new HashMap<>();
        for (String part : body.split(Pattern.quote(new String(delimiter, StandardCharsets.ISO_8859_1)))) {
            int headersEnd = part.indexOf("\r\n\r\n");
            if (headersEnd < 0) {
                continue;
            }
            Matcher name = Pattern.compile("name=\"([^\"]+)\"").matcher(part.substring(0, headersEnd));
            if (name.find()) {
                String content = part.substring(headersEnd + 4, part.length() - 2); // the CRLF before the next delimiter
                parts.put(name.group(1), content.getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        return parts;
    }

    @Test
    void eachSliceReachesTheServerAsPyroscopeExpectsItAfterARetry(@TempDir Path dir) throws Exception {
        List<Request> got = Collections.synchronizedList(new ArrayList<>());
        HttpServer server = server(got, 1, 200);
        ChildJvm.Result r;
        try {
            r = ChildJvm.workload(CpuBurn.class, "1", "4.5").agent("file=" + dir.resolve("up-%p.jfr") + ",probes=cpu,interval=2s,upload=http://127.0.0.1:"
                    + server.getAddress().getPort() + ",service=checkout").run(dir).assertSucceeded();
        } finally {
            server.stop(0);
        }
        String out = r.output();
        long pid = Long.parseLong(r.agentLines().stream().map(l -> Pattern.compile("up-(\\d+)-").matcher(l)).filter(Matcher::find)
                .findFirst().orElseThrow(() -> new AssertionError(out)).group(1));
        // two slices and the last one, the first sent twice (503, then taken)
        assertTrue(got.size() >= 4, got.size() + " requests:\n" + out);
        assertTrue(r.agentLines().stream().filter(l -> l.contains("upload:") && l.contains("sent to")).count() >= 3, out);
        Request first = got.get(0);
        Request retried = got.get(1);
        assertEquals(first.query().get("from"), retried.query().get("from"), "the refused slice is sent again");
        assertTrue(retried.atMillis() - first.atMillis() >= 900, "after a backoff: " + (retried.atMillis() - first.atMillis()) + " ms");
        for (Request q : got) {
            assertEquals("POST", q.method());
            assertEquals("/ingest", q.path());
            assertEquals("pprof", q.query().get("format"));
            String name = q.query().get("name");
            assertTrue(name.startsWith("checkout{") && name.contains("pid=" + pid) && name.contains("host="), name);
            long from = Long.parseLong(q.query().get("from"));
            long until = Long.parseLong(q.query().get("until"));
            assertTrue(from > 1_700_000_000L && until > from && until - from <= 10, from + " .. " + until);
            Map<String, byte[]> parts = parts(q);
            String config = new String(parts.get("sample_type_config"), StandardCharsets.UTF_8);
            assertTrue(config.contains("\"cpu\":{\"units\":\"samples\"") && config.contains("\"offcpu\""), config);
            PprofReader profile = PprofReader.read(parts.get("profile"));
            assertEquals("cpu", profile.sampleTypes().get(0)[0]);
            assertEquals("samples", profile.sampleTypes().get(0)[1]);
            assertEquals("", profile.strings().get(0), "pprof's string table starts with the empty string");
        }
        long burning = got.stream().skip(1).mapToLong(q -> {
            try {
                return PprofReader.read(parts(q).get("profile")).totalWith("cpu", "CpuBurn.burn");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }).sum();
        assertTrue(burning > 300, "CPU samples in CpuBurn.burn across the uploads: " + burning);
    }

    @Test
    void aServerThatKeepsFailingCostsTheApplicationNothing(@TempDir Path dir) throws Exception {
        List<Request> got = Collections.synchronizedList(new ArrayList<>());
        HttpServer server = server(got, 0, 500);
        long t0 = System.nanoTime();
        ChildJvm.Result r;
        try {
            r = ChildJvm.workload(CpuBurn.class, "1", "2").agent("file=" + dir.resolve("down.jfr") + ",probes=cpu,upload=http://127.0.0.1:"
                    + server.getAddress().getPort()).run(dir).assertSucceeded();
        } finally {
            server.stop(0);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(r.agentLines().stream().anyMatch(l -> l.contains("not sent to") && l.contains("HTTP 500")), r.output());
        assertTrue(seconds < 20, "the JVM's exit is not held by a failing server: " + seconds + " s");
        assertEquals(1, got.size(), "the last recording is tried once at exit");
    }
}
