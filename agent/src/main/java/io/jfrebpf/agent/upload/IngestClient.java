package io.jfrebpf.agent.upload;

import io.jfrebpf.events.read.pprof.Pprof;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One {@code POST <base>/ingest} of one profile, as grafana/pyroscope reads it
 * (pkg/ingester/pyroscope/ingest_handler.go, readInputRawDataFromRequest): no {@code format}
 * parameter, so that the multipart body is taken as pprof with its parts (with {@code format=pprof}
 * the whole body would be read as one raw profile and the multipart framing would fail to decode:
 * HTTP 422); the parts are files, as the server only reads file parts (pkg/og/util/form/form.go,
 * ReadField): {@code profile}, the gzipped pprof, and {@code sample_type_config}, which names it
 * (pkg/og/convert/pprof/profile.go, loadPprofFromForm and metricName).
 *
 * <p>Through {@link HttpURLConnection}, on the calling thread (the agent's background thread,
 * which the probes do not trace, or the thread that ends the recording): the connection and its
 * bytes are the agent's, not the application's. The body's length is fixed, so the JDK never sends
 * a POST again by itself.
 */
final class IngestClient {
    static final String SPY_NAME = "jfr-ebpf";
    private static final int MESSAGE_BYTES = 512;

    private final PyroscopeTarget target;
    private final String name;

    IngestClient(PyroscopeTarget target, String name) {
        this.target = target;
        this.name = name;
    }

    /** The request's URL: the series name and the profile's time range, in seconds. */
    URI uri(Pprof.Piece piece) {
        long from = piece.from().getEpochSecond();
        return URI.create(target.ingest() + "?name=" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "&from=" + from
                + "&until=" + Math.max(piece.until().getEpochSecond(), from + 1) + "&spyName=" + SPY_NAME);
    }

    IngestReply send(Pprof.Piece piece, int connectTimeoutMs, int readTimeoutMs) throws IOException {
        String boundary = boundary();
        byte[] config = piece.kind().sampleTypeConfig().getBytes(StandardCharsets.UTF_8);
        while (contains(piece.gzipped(), boundary) || contains(config, boundary)) {
            boundary = boundary();
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream(piece.gzipped().length + 512);
        part(body, boundary, "profile", "profile.pb.gz", "application/octet-stream", piece.gzipped());
        part(body, boundary, "sample_type_config", "sample_type_config.json", "application/json", config);
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return post(uri(piece), body.toByteArray(), "multipart/form-data; boundary=" + boundary, connectTimeoutMs, readTimeoutMs);
    }

    private IngestReply post(URI uri, byte[] body, String contentType, int connectTimeoutMs, int readTimeoutMs) throws IOException {
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        boolean reusable = false;
        try {
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.setUseCaches(false);
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout(Math.max(1, connectTimeoutMs));
            c.setReadTimeout(Math.max(1, readTimeoutMs));
            c.setFixedLengthStreamingMode(body.length);
            c.setRequestProperty("Content-Type", contentType);
            c.setRequestProperty("User-Agent", "jfr-ebpf");
            for (Map.Entry<String, String> h : target.requestHeaders().entrySet()) {
                c.setRequestProperty(h.getKey(), h.getValue());
            }
            try (OutputStream out = c.getOutputStream()) {
                out.write(body);
            }
            int status = c.getResponseCode();
            String message;
            try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
                byte[] head = in == null ? new byte[0] : in.readNBytes(MESSAGE_BYTES);
                reusable = in == null || in.read() < 0; // read to its end: the connection can serve the next request
                message = new String(head, StandardCharsets.UTF_8).strip().replaceAll("\\s+", " ");
            }
            return new IngestReply(status, IngestReply.retryAfter(c.getHeaderField("Retry-After"), Instant.now()), scrub(message));
        } finally {
            if (!reusable) {
                c.disconnect();
            }
        }
    }

    /** A server's message as it may be logged: without anything of the credentials, were it to echo them. */
    String scrub(String message) {
        String m = message;
        for (String secret : target.secrets()) {
            if (!secret.isEmpty()) {
                m = m.replace(secret, "***");
            }
        }
        return m;
    }

    private static void part(ByteArrayOutputStream body, String boundary, String field, String file, String type, byte[] data) {
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + file
                + "\"\r\nContent-Type: " + type + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        body.writeBytes(data);
        body.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    private static String boundary() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return "jfr-ebpf-" + Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
    }

    private static boolean contains(byte[] data, String boundary) {
        byte[] b = boundary.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + b.length <= data.length; i++) {
            for (int j = 0; j < b.length; j++) {
                if (data[i + j] != b[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
