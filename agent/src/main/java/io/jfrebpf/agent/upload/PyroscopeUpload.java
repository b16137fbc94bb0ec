package io.jfrebpf.agent.upload;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.probe.BackgroundWork;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.StringJoiner;
import java.util.UUID;

/**
 * Sends each finished recording (or slice) to a Pyroscope server, the backend users run for
 * their fleet: {@code POST <base>/ingest?name=<service>{host=..,pid=..,container_id=..}&from=&until=&format=pprof}
 * with a multipart body holding the profile ({@link Pprof}: one sample type per kind of event)
 * and its {@code sample_type_config}. All of it on the agent's background thread: a failed send
 * (no connection, HTTP 5xx or 429) is retried after 1, 2, 4, 8 then 16 s; at most
 * {@link #MAX_PENDING} recordings wait, beyond that the oldest is dropped; both counted, never
 * blocking the application.
 */
public final class PyroscopeUpload {
    static final int MAX_PENDING = 8;
    static final int MAX_ATTEMPTS = 6;
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** The last recording is sent as the JVM exits: its exit is not held longer than this. */
    static final Duration EXIT_TIMEOUT = Duration.ofSeconds(5);

    private record Pending(Path recording, Instant from, Instant until, int attempt, Pprof.Profile profile) {
    }

    private final URI ingest;
    private final String service;
    private final Map<String, String> labels;
    private final BackgroundWork background;
    private final int cpuHz;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Deque<Pending> waiting = new ArrayDeque<>();
    private long sent;
    private long failed;
    private long dropped;

    public PyroscopeUpload(URI base, String service, Map<String, String> labels, BackgroundWork background, int cpuHz) {
        String b = base.toString();
        this.ingest = URI.create((b.endsWith("/") ? b.substring(0, b.length() - 1) : b) + "/ingest");
        this.service = service;
        this.labels = Map.copyOf(labels);
        this.background = background;
        this.cpuHz = cpuHz;
    }

    /** Queues a recording to be sent (read on the background thread, while the file exists). */
    public synchronized void enqueue(Path recording, Instant from, Instant until) {
        if (waiting.size() >= MAX_PENDING) {
            Pending oldest = waiting.pollFirst();
            dropped++;
            Log.warn("upload: %d recordings already wait for %s; %s dropped", MAX_PENDING, ingest, oldest.recording().getFileName());
        }
        Pending p = new Pending(recording, from, until, 0, null);
        waiting.addLast(p);
        if (!background.submit(() -> attempt(p))) {
            waiting.remove(p);
            dropped++;
        }
    }

    /** Sends one recording now, on the calling thread, once (the last one, at exit); true when the server took it. */
    public boolean sendNow(Path recording, Instant from, Instant until) {
        try {
            Pprof.Profile profile = Pprof.of(recording, from, until, cpuHz);
            int status = post(profile, from, until, EXIT_TIMEOUT);
            boolean ok = status / 100 == 2;
            count(ok, recording, status, null);
            return ok;
        } catch (IOException | InterruptedException e) {
            count(false, recording, 0, e);
            return false;
        }
    }

    private void attempt(Pending p) {
        synchronized (this) {
            if (!waiting.contains(p)) {
                return; // dropped meanwhile
            }
        }
        Pending current = p;
        try {
            if (current.profile() == null) {
                current = new Pending(p.recording(), p.from(), p.until(), p.attempt(), Pprof.of(p.recording(), p.from(), p.until(), cpuHz));
                replace(p, current);
            }
            int status = post(current.profile(), current.from(), current.until(), TIMEOUT);
            if (status / 100 == 2) {
                done(current, true, status, null);
            } else if ((status >= 500 || status == 429) && current.attempt() + 1 < MAX_ATTEMPTS) {
                retry(current, "HTTP " + status);
            } else {
                done(current, false, status, null);
            }
        } catch (IOException e) {
            if (current.profile() != null && current.attempt() + 1 < MAX_ATTEMPTS) {
                retry(current, e.toString());
            } else {
                done(current, false, 0, e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done(current, false, 0, e);
        }
    }

    private void retry(Pending p, String why) {
        long delay = Math.min(60_000L, 1000L << p.attempt());
        Pending next = new Pending(p.recording(), p.from(), p.until(), p.attempt() + 1, p.profile());
        replace(p, next);
        Log.debug("upload: %s to %s failed (%s); attempt %d in %d ms", p.recording().getFileName(), ingest, why,
                next.attempt() + 1, delay);
        if (!background.schedule(() -> attempt(next), delay)) {
            done(next, false, 0, new IOException("no room to retry"));
        }
    }

    private synchronized void replace(Pending old, Pending now) {
        if (waiting.remove(old)) {
            waiting.addLast(now);
        }
    }

    private void done(Pending p, boolean ok, int status, Exception e) {
        synchronized (this) {
            waiting.remove(p);
        }
        count(ok, p.recording(), status, e);
    }

    private synchronized void count(boolean ok, Path recording, int status, Exception e) {
        if (ok) {
            sent++;
            Log.info("upload: %s sent to %s", recording.getFileName(), ingest);
        } else {
            failed++;
            Log.warn("upload: %s not sent to %s (%s)", recording.getFileName(), ingest,
                    e != null ? e.toString() : "HTTP " + status);
        }
    }

    /** The HTTP status of one POST. */
    int post(Pprof.Profile profile, Instant from, Instant until, Duration timeout) throws IOException, InterruptedException {
        String boundary = "jfr-ebpf-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        part(body, boundary, "profile", "profile.pprof", "application/octet-stream", profile.gzipped());
        part(body, boundary, "sample_type_config", "sample_type_config.json", "application/json",
                Pprof.sampleTypeConfig().getBytes(StandardCharsets.UTF_8));
        body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        URI uri = URI.create(ingest + "?name=" + encode(name()) + "&from=" + from.getEpochSecond() + "&until="
                + Math.max(until.getEpochSecond(), from.getEpochSecond() + 1) + "&format=pprof&spyName=jfr-ebpf");
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** {@code service{label=value,...}}: Pyroscope appends each profile type to the name. */
    String name() {
        StringJoiner j = new StringJoiner(",", "{", "}");
        labels.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> j.add(e.getKey() + "=" + e.getValue()));
        return service + j;
    }

    private static void part(ByteArrayOutputStream body, String boundary, String field, String file, String type, byte[] data)
            throws IOException {
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + file
                + "\"\r\nContent-Type: " + type + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(data);
        body.write("\r\n".getBytes(StandardCharsets.UTF_8));
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    public synchronized String stats() {
        return sent + " sent, " + failed + " failed, " + dropped + " dropped";
    }

    /** Labels of this JVM: host, pid, container id when in one. */
    public static Map<String, String> labels(String containerId) {
        Map<String, String> m = new java.util.TreeMap<>();
        m.put("host", hostname());
        m.put("pid", String.valueOf(ProcessHandle.current().pid()));
        if (containerId != null) {
            m.put("container_id", containerId);
        }
        return m;
    }

    private static String hostname() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The default service name: the main class's simple name, or the jar's name, as sun.java.command says. */
    public static String defaultService() {
        String command = System.getProperty("sun.java.command", "").strip();
        String first = command.isEmpty() ? "java" : command.split("\\s+")[0];
        String name = first.endsWith(".jar") ? Path.of(first).getFileName().toString().replaceAll("\\.jar$", "")
                : first.substring(first.lastIndexOf('.') + 1);
        name = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return name.isEmpty() ? "java" : name;
    }
}
