package io.jfrebpf.agent.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pyroscope's {@code POST /ingest} on loopback (the JDK's HTTP server), written from a reading of
 * grafana/pyroscope at 3fe6a457 (2026-08-21, the newest stored; after v2.2.1), with its default
 * limits (pkg/validation/limits.go, RegisterFlags). Each rule names the file and function it
 * mirrors. It records every request with the status it answered, and keeps each profile it would
 * store with its series labels and profile types. Only the pprof paths are modelled (the agent
 * sends nothing else); a request for another format is answered 422 as "not modelled here".
 *
 * <p>Two things are not Pyroscope's but stand for what sits in front of it: {@link #requireAuthorization}
 * is a gateway that checks credentials (Grafana Cloud checks basic auth there: 401 without), and
 * {@link #failNext} scripts the passing failures of a server or proxy (503, 429 with Retry-After,
 * a slow answer).
 */
public final class PyroscopeServer implements AutoCloseable {
    /** distributor.ingestion-body-limit-mb: 256. */
    static final long INGESTION_BODY_LIMIT = 256L << 20;
    /** validation.max-profile-size-bytes: 4 MiB uncompressed. */
    static final int MAX_PROFILE_SIZE_BYTES = 4 << 20;
    /** validation.max-profile-stacktrace-samples. */
    static final int MAX_PROFILE_STACKTRACE_SAMPLES = 16_000;
    /** validation.max-length-label-name, max-length-label-value, max-label-names-per-series. */
    static final int MAX_LABEL_NAME_LENGTH = 1024;
    static final int MAX_LABEL_VALUE_LENGTH = 2048;
    static final int MAX_LABEL_NAMES_PER_SERIES = 30;
    /** distributor.ingestion-rate-limit-mb 4 and ingestion-burst-size-mb 2 (MiB: bytesInMB = 1048576). */
    static final double INGESTION_RATE_BYTES = 4.0 * 1048576;
    static final double INGESTION_BURST_BYTES = 2.0 * 1048576;
    /** validation.reject-older-than 1h, reject-newer-than 10m. */
    static final Duration REJECT_OLDER_THAN = Duration.ofHours(1);
    static final Duration REJECT_NEWER_THAN = Duration.ofMinutes(10);

    /** One request as received, and the answer given. */
    public record Request(String path, Map<String, String> query, Map<String, String> headers, byte[] body, long atNanos, int status,
            String message) {
    }

    /** What the server keeps of an accepted profile: the series labels, one profile type per sample type. */
    public record Stored(Map<String, String> labels, List<String> profileTypes, PprofReader profile, int uncompressedBytes) {
        public String name() {
            return labels.get("__name__");
        }
    }

    private record Scripted(int status, String retryAfter, long delayMillis) {
    }

    private final HttpServer http;
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final List<Stored> stored = Collections.synchronizedList(new ArrayList<>());
    private final Deque<Scripted> script = new ArrayDeque<>();
    private volatile boolean multitenancy;
    private volatile String requiredAuthorization;
    private double tokens = INGESTION_BURST_BYTES;
    private long tokensAt = System.nanoTime();

    private PyroscopeServer() throws IOException {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        http.createContext("/", this::handle);
        http.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "pyroscope-test-server");
            t.setDaemon(true);
            return t;
        }));
        http.start();
    }

    public static PyroscopeServer start() throws IOException {
        return new PyroscopeServer();
    }

    public String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort();
    }

    /** multitenancy_enabled: X-Scope-OrgID is required (pkg/util/http/auth.go, AuthenticateUser). */
    public PyroscopeServer multitenancy(boolean on) {
        multitenancy = on;
        return this;
    }

    /** A gateway in front that lets through only this Authorization header (e.g. Grafana Cloud's basic auth). */
    public PyroscopeServer requireAuthorization(String value) {
        requiredAuthorization = value;
        return this;
    }

    /** The next {@code times} requests get {@code status} (and Retry-After when not null) after {@code delayMillis}. */
    public synchronized PyroscopeServer failNext(int times, int status, String retryAfter, long delayMillis) {
        for (int i = 0; i < times; i++) {
            script.addLast(new Scripted(status, retryAfter, delayMillis));
        }
        return this;
    }

    public List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    public List<Stored> stored() {
        synchronized (stored) {
            return List.copyOf(stored);
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }

    private void handle(HttpExchange e) throws IOException {
        long at = System.nanoTime();
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        e.getRequestHeaders().forEach((k, v) -> headers.put(k, v.isEmpty() ? "" : v.get(0)));
        Map<String, String> query = query(e.getRequestURI().getRawQuery());
        byte[] body;
        int status;
        String message;
        String retryAfter = null;
        try (InputStream in = e.getRequestBody()) {
            // pkg/util/body/limit.go, NewSizeLimitHandler: http.MaxBytesReader -> 413 (ingest_handler.go, ServeHTTP)
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, INGESTION_BODY_LIMIT + 1));
        }
        Scripted scripted;
        synchronized (this) {
            scripted = script.pollFirst();
        }
        Answer a;
        if (scripted != null) {
            sleep(scripted.delayMillis());
            a = new Answer(scripted.status(), "scripted failure");
            retryAfter = scripted.retryAfter();
        } else {
            a = answer(e.getRequestMethod(), e.getRequestURI().getPath(), query, headers, body);
        }
        status = a.status;
        message = a.message;
        requests.add(new Request(e.getRequestURI().getPath(), query, headers, body, at, status, message));
        if (retryAfter != null) {
            e.getResponseHeaders().set("Retry-After", retryAfter);
        }
        byte[] out = status == 200 ? new byte[0]
                : ("{\"code\":\"" + status + "\",\"message\":\"" + message.replace("\"", "'") + "\"}").getBytes(StandardCharsets.UTF_8);
        e.getResponseHeaders().set("Content-Type", "application/json");
        e.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            e.getResponseBody().write(out);
        }
        e.close();
    }

    private record Answer(int status, String message) {
    }

    /** Thrown with the status the handler answers. */
    public static final class Refused extends Exception {
        final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private Answer answer(String method, String path, Map<String, String> query, Map<String, String> headers, byte[] body) {
        try {
            // pkg/api/api.go: the handler is routed at /ingest and /pyroscope/ingest
            if (!path.equals("/ingest") && !path.equals("/pyroscope/ingest")) {
                throw new Refused(404, "404 page not found");
            }
            if (!method.equals("POST")) {
                throw new Refused(405, "method not allowed");
            }
            String required = requiredAuthorization;
            if (required != null && !required.equals(headers.get("Authorization"))) {
                throw new Refused(401, "gateway: invalid credentials"); // not Pyroscope's: the gateway in front
            }
            String tenant = "anonymous"; // pkg/tenant: DefaultTenantID
            if (multitenancy) {
                // pkg/util/http/auth.go, AuthenticateUser -> dskit user.ExtractOrgIDFromHTTPRequest: 401 "no org id"
                tenant = headers.get("X-Scope-OrgID");
                if (tenant == null || tenant.isEmpty()) {
                    throw new Refused(401, "no org id");
                }
            }
            if (body.length > INGESTION_BODY_LIMIT) {
                throw new Refused(413, "request body too large"); // ingest_handler.go, ServeHTTP: MaxBytesError
            }
            // ingest_handler.go, parseInputMetadataFromRequest: labelset.Parse(name) -> 400
            Map<String, String> labelSet = LabelSet.parse(query.getOrDefault("name", ""));
            long fromSeconds = attimeSeconds(query.get("from"));
            String spyName = query.getOrDefault("spyName", "");
            if (spyName.isEmpty()) {
                spyName = "unknown";
            }
            // ingest_handler.go, readInputRawDataFromRequest: format first, then the content type
            String format = query.getOrDefault("format", "");
            String contentType = headers.getOrDefault("Content-Type", "");
            byte[] profile;
            Map<String, String> displayNames = null;
            if (format.equals("pprof")) {
                profile = body; // pprof.RawProfile{RawData: b}: the whole body is the profile
            } else if (List.of("trie", "tree", "lines", "jfr", "speedscope").contains(format)
                    || contentType.equals("binary/octet-stream+trie") || contentType.equals("binary/octet-stream+tree")) {
                throw new Refused(422, "format " + format + contentType + ": not modelled here");
            } else if (contentType.contains("multipart/form-data")) {
                // og/convert/pprof/profile.go, loadPprofFromForm
                Map<String, byte[]> files = Multipart.files(contentType, body);
                profile = files.get("profile");
                if (files.get("prev_profile") != null) {
                    throw new Refused(422, "unsupported client version. Please update github.com/grafana/pyroscope-go to the latest version");
                }
                byte[] config = files.get("sample_type_config");
                if (config != null) {
                    displayNames = SampleTypeConfig.displayNames(new String(config, StandardCharsets.UTF_8));
                }
            } else {
                throw new Refused(422, "format groups (collapsed text): not modelled here"); // the switch's default
            }
            // og/convert/pprof/profile.go, ParseToPprof: no profile -> no series; ingest_adapter.go, parseToPprof: "empty profile", 200
            if (profile == null || profile.length == 0) {
                return new Answer(200, "empty profile: nothing stored");
            }
            if (!tenant.matches("[a-zA-Z0-9!._*'()-]{1,150}")) {
                throw new Refused(422, "tenant ID is invalid"); // dskit tenant.TenantID, called in ParseToPprof
            }
            // pkg/pprof/pprof.go, RawFromBytesWithLimit: gzip or not, at most max_profile_size_bytes uncompressed
            byte[] raw;
            PprofReader p;
            try {
                raw = PprofReader.uncompressed(profile, MAX_PROFILE_SIZE_BYTES);
                p = PprofReader.decode(raw);
            } catch (IOException bad) {
                throw new Refused(422, "failed to parse pprof: " + bad.getMessage()); // connect InvalidArgument -> 422
            }
            // og/convert/pprof/profile.go, createLabels
            Map<String, String> labels = new TreeMap<>();
            labels.put("__name__", metricName(p, displayNames));
            labels.put("__delta__", "false");
            labels.put("pyroscope_spy", spyName);
            String serviceName = labelSet.containsKey("service_name") ? labelSet.get("service_name") : labelSet.get("__name__");
            labels.put("service_name", serviceName);
            labelSet.forEach((k, v) -> {
                if (!k.startsWith("__")) { // model/labels.go, IsLabelAllowedForIngestion
                    labels.put(k, v);
                }
            });
            // distributor.go, pushSeries: size = labels + the profile as encoded again; rateLimit before validation
            long size = PprofReader.serializedSize(raw);
            for (Map.Entry<String, String> l : labels.entrySet()) {
                size += l.getKey().length() + l.getValue().length();
            }
            if (!allow(size)) {
                throw new Refused(429, "push rate limit (4.0 MiB) exceeded while adding " + size + " bytes"); // ResourceExhausted -> 429
            }
            long timeNanos = p.timeNanos() == 0 || p.timeNanos() < 365L * 86_400 * 1_000_000_000L
                    ? fromSeconds * 1_000_000_000L : p.timeNanos(); // profile.go, fixTime
            validateProfile(p, (int) PprofReader.serializedSize(raw), timeNanos); // 422
            // pkg/pprof/pprof.go, Normalize: samples with no positive value (or a negative one) go
            boolean anySample = p.sample().stream().anyMatch(s -> s.value().stream().allMatch(v -> v >= 0)
                    && s.value().stream().anyMatch(v -> v > 0));
            if (!anySample) {
                return new Answer(200, "no samples left after normalization: nothing stored"); // distributor.go, pushSeries
            }
            validateLabels(labels); // validate.go, ValidateLabels (distributor.go, sampleSeriesVisitor) -> 422
            List<String> types = new ArrayList<>();
            String periodType = p.periodType() == null ? "" : p.string(p.periodType().type());
            String periodUnit = p.periodType() == null ? "" : p.string(p.periodType().unit());
            for (PprofReader.ValueType t : p.sampleType()) { // phlaredb/labels/labels.go, CreateProfileLabels
                types.add(labels.get("__name__") + ":" + p.string(t.type()) + ":" + p.string(t.unit()) + ":" + periodType + ":" + periodUnit);
            }
            stored.add(new Stored(labels, types, p, raw.length));
            return new Answer(200, "stored");
        } catch (Refused r) {
            return new Answer(r.status, r.getMessage());
        } catch (IOException | RuntimeException bad) {
            return new Answer(422, bad.toString());
        }
    }

    /**
     * og/convert/pprof/profile.go, metricName: "wall" if a sample type is named so; else the
     * first sample type whose name — its display name when sample_type_config gives one, else
     * the server's default mapping (og/storage/tree/pprof.go, DefaultSampleTypeMapping) — contains
     * "cpu" (process_cpu), "alloc_" or "inuse_" or is "space" or "objects" (memory), "mutex_",
     * "block_", "goroutines"; else the last name looked at.
     */
    public static String metricName(PprofReader p, Map<String, String> displayNames) {
        Map<String, String> names = displayNames != null ? displayNames
                : Map.of("samples", "cpu", "goroutine", "goroutines", "contentions", "mutex_count", "delay", "mutex_duration");
        String st = "";
        for (PprofReader.ValueType t : p.sampleType()) {
            st = p.string(t.type());
            if ("wall".equals(st)) {
                return st;
            }
        }
        for (PprofReader.ValueType t : p.sampleType()) {
            st = p.string(t.type());
            String display = names.get(st);
            if (display != null && !display.isEmpty()) {
                st = display;
            }
            if (st.contains("cpu")) {
                return "process_cpu";
            }
            if (st.contains("alloc_") || st.contains("inuse_") || st.equals("space") || st.equals("objects")) {
                return "memory";
            }
            if (st.contains("mutex_")) {
                return "mutex";
            }
            if (st.contains("block_")) {
                return "block";
            }
            if (st.contains("goroutines")) {
                return "goroutines";
            }
        }
        return st;
    }

    /** pkg/validation/validate.go, ValidateProfile (and validateStringTableAccess), in its order. */
    private static void validateProfile(PprofReader p, int uncompressedSize, long timeNanos) throws Refused {
        if (p.sampleType().isEmpty()) {
            throw new Refused(422, "empty profile");
        }
        long now = System.currentTimeMillis() * 1_000_000L;
        if (timeNanos <= now - REJECT_OLDER_THAN.toNanos() || timeNanos >= now + REJECT_NEWER_THAN.toNanos()) {
            throw new Refused(422, "profile is outside of ingestion window");
        }
        if (uncompressedSize > MAX_PROFILE_SIZE_BYTES) {
            throw new Refused(422, "exceeds the size limit (max_profile_size_byte, actual: " + uncompressedSize + ")");
        }
        if (p.sample().size() > MAX_PROFILE_STACKTRACE_SAMPLES) {
            throw new Refused(422, "exceeds the samples count limit (max_profile_stacktrace_samples, actual: " + p.sample().size() + ")");
        }
        for (PprofReader.Location l : p.location()) {
            if (l.id() == 0) {
                throw new Refused(422, "location id is 0");
            }
        }
        for (PprofReader.Function f : p.function()) {
            if (f.id() == 0) {
                throw new Refused(422, "function id is 0");
            }
        }
        for (PprofReader.Sample s : p.sample()) {
            if (s.value().size() != p.sampleType().size()) {
                throw new Refused(422, "sample value length mismatch");
            }
        }
        List<String> st = p.stringTable();
        if (st.isEmpty() || !st.get(0).isEmpty()) {
            throw new Refused(422, "string 0 should be empty string");
        }
        for (PprofReader.ValueType t : p.sampleType()) {
            if (t.type() >= st.size()) {
                throw new Refused(422, "sample type type string index out of range");
            }
        }
        for (PprofReader.Sample s : p.sample()) {
            for (PprofReader.LabelPair l : s.label()) {
                if (l.str() >= st.size() || l.key() >= st.size()) {
                    throw new Refused(422, "sample label string index out of range");
                }
            }
        }
        for (PprofReader.Function f : p.function()) {
            if (f.name() >= st.size() || f.systemName() >= st.size() || f.filename() >= st.size()) {
                throw new Refused(422, "function name string index out of range");
            }
        }
        for (PprofReader.Mapping m : p.mapping()) {
            if (m.filename() >= st.size() || m.buildId() >= st.size()) {
                throw new Refused(422, "mapping file name string index out of range");
            }
        }
        for (PprofReader.ValueType t : p.sampleType()) {
            if (st.get((int) t.type()).contains("-")) {
                throw new Refused(422, "sample type contains -");
            }
        }
        // every string is valid UTF-8: protobuf-java refuses a proto3 string that is not, in decode
    }

    /** pkg/validation/validate.go, ValidateLabels (label sanitization off, the default). */
    private static void validateLabels(Map<String, String> labels) throws Refused {
        if (labels.size() > MAX_LABEL_NAMES_PER_SERIES) {
            throw new Refused(422, "profile series has " + labels.size() + " label names; limit " + MAX_LABEL_NAMES_PER_SERIES);
        }
        if (labels.getOrDefault("service_name", "").isEmpty()) {
            throw new Refused(422, "service name is not provided");
        }
        for (Map.Entry<String, String> l : labels.entrySet()) {
            if (l.getKey().length() > MAX_LABEL_NAME_LENGTH) {
                throw new Refused(422, "profile with labels has label name too long");
            }
            if (l.getValue().getBytes(StandardCharsets.UTF_8).length > MAX_LABEL_VALUE_LENGTH) {
                throw new Refused(422, "profile with labels has label value too long");
            }
            if (l.getKey().isEmpty()) {
                throw new Refused(422, "invalid label name ''");
            }
        }
    }

    /** golang.org/x/time/rate AllowN, as dskit's limiter uses it: a request over the burst never passes. */
    private synchronized boolean allow(long bytes) {
        long now = System.nanoTime();
        tokens = Math.min(INGESTION_BURST_BYTES, tokens + (now - tokensAt) / 1e9 * INGESTION_RATE_BYTES);
        tokensAt = now;
        if (bytes > tokens) {
            return false;
        }
        tokens -= bytes;
        return true;
    }

    /** og/util/attime/attime.go, Parse, for the digits-only forms: seconds, or ms/us/ns by length. */
    private static long attimeSeconds(String s) {
        if (s == null || !s.matches("\\d+")) {
            return System.currentTimeMillis() / 1000; // absent: time.Now()
        }
        long v = Long.parseLong(s);
        return switch (s.length()) {
            case 13 -> v / 1000;
            case 16 -> v / 1_000_000;
            case 19 -> v / 1_000_000_000;
            default -> v;
        };
    }

    /** Go's url.Query: key=value pairs split at '&', each unescaped ('+' is a space). */
    private static Map<String, String> query(String raw) {
        Map<String, String> q = new LinkedHashMap<>();
        if (raw == null) {
            return q;
        }
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
            q.putIfAbsent(k, eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return q;
    }

    private static void sleep(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    /** api/model/labelset/labelset.go, Parse (and validate.go): no escapes; a value ends at ',' or '}'. */
    public static final class LabelSet {
        private LabelSet() {
        }

        public static Map<String, String> parse(String name) throws Refused {
            Map<String, String> labels = new HashMap<>();
            int state = 0; // name, tagLabelSet, tagValue, done
            StringBuilder key = new StringBuilder();
            StringBuilder value = new StringBuilder();
            String text = name + "{";
            for (int i = 0; i < text.length(); ) {
                int r = text.codePointAt(i);
                i += Character.charCount(r);
                switch (state) {
                    case 0 -> {
                        if (r == '{') {
                            state = 1;
                            String service = value.toString().strip();
                            validateServiceName(service);
                            labels.put("__name__", service);
                        } else {
                            value.appendCodePoint(r);
                        }
                    }
                    case 1 -> {
                        if (r == '}') {
                            state = 3;
                        } else if (r == '=') {
                            state = 2;
                            value.setLength(0);
                        } else {
                            key.appendCodePoint(r);
                        }
                    }
                    case 2 -> {
                        if (r == ',' || r == '}') {
                            state = 1;
                            String k = key.toString().strip();
                            if (!k.equals("__name__")) {
                                validateLabelName(k);
                            }
                            labels.put(k, value.toString().strip());
                            key.setLength(0);
                        } else {
                            value.appendCodePoint(r);
                        }
                    }
                    default -> {
                    }
                }
            }
            return labels;
        }

        /** validate.go, ValidateLabelName: letters, digits, '_' and '.'; not __name__. */
        static void validateLabelName(String k) throws Refused {
            if (k.isEmpty()) {
                throw new Refused(400, "name: label name is required");
            }
            for (int i = 0; i < k.length(); i++) {
                char c = k.charAt(i);
                if (!(Character.isLetterOrDigit(c) && c < 0x80 || c == '_' || c == '.')) {
                    throw new Refused(400, "name: invalid label name: " + k + ": character is not allowed: '" + c + "'");
                }
            }
        }

        /** validate.go, ValidateServiceName: also '-' and '/'. */
        static void validateServiceName(String n) throws Refused {
            if (n.isEmpty()) {
                throw new Refused(400, "name: service name is required");
            }
            for (int i = 0; i < n.length(); i++) {
                char c = n.charAt(i);
                if (!(Character.isLetterOrDigit(c) && c < 0x80 || c == '_' || c == '.' || c == '-' || c == '/')) {
                    throw new Refused(400, "name: invalid service name: character is not allowed: '" + c + "'");
                }
            }
        }
    }

    /** The {@code display-name} of each sample type in a sample_type_config (og/storage/tree/pprof.go, SampleTypeConfig). */
    public static final class SampleTypeConfig {
        private static final Pattern ENTRY = Pattern.compile("\"([^\"]+)\"\\s*:\\s*\\{([^{}]*)\\}");
        private static final Pattern DISPLAY = Pattern.compile("\"display-name\"\\s*:\\s*\"([^\"]*)\"");

        private SampleTypeConfig() {
        }

        public static Map<String, String> displayNames(String json) throws Refused {
            String t = json.strip();
            if (!t.startsWith("{") || !t.endsWith("}")) {
                throw new Refused(422, "sample_type_config is not a JSON object"); // json.Unmarshal fails
            }
            Map<String, String> names = new HashMap<>();
            Matcher m = ENTRY.matcher(t);
            while (m.find()) {
                Matcher d = DISPLAY.matcher(m.group(2));
                names.put(m.group(1), d.find() ? d.group(1) : "");
            }
            return names;
        }
    }

    /**
     * Go's mime/multipart ReadForm as form.ReadField reads it (pkg/og/util/form/form.go): only
     * parts with a file name count, an empty one as absent; the boundary from the content type
     * (mime.ParseMediaType).
     */
    static final class Multipart {
        private Multipart() {
        }

        static Map<String, byte[]> files(String contentType, byte[] body) throws Refused {
            Matcher b = Pattern.compile("boundary=\"?([^\";]+)\"?").matcher(contentType);
            if (!b.find()) {
                throw new Refused(422, "malformed multipart content type header");
            }
            byte[] delimiter = ("--" + b.group(1)).getBytes(StandardCharsets.ISO_8859_1);
            Map<String, byte[]> files = new HashMap<>();
            Set<String> seen = new HashSet<>();
            int at = indexOf(body, delimiter, 0);
            if (at < 0) {
                throw new Refused(422, "multipart: NextPart: EOF");
            }
            while (true) {
                int after = at + delimiter.length;
                if (after + 2 <= body.length && body[after] == '-' && body[after + 1] == '-') {
                    return files; // the closing delimiter
                }
                if (after + 2 > body.length || body[after] != '\r' || body[after + 1] != '\n') {
                    throw new Refused(422, "multipart: expecting a new Part");
                }
                int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), after + 2);
                int next = indexOf(body, ("\r\n--" + b.group(1)).getBytes(StandardCharsets.ISO_8859_1), after + 2);
                if (headersEnd < 0 || next < 0 || headersEnd > next) {
                    throw new Refused(422, "multipart: NextPart: EOF");
                }
                String partHeaders = new String(body, after + 2, headersEnd - after - 2, StandardCharsets.ISO_8859_1);
                Matcher name = Pattern.compile("(?i)content-disposition:\\s*form-data;.*?\\bname=\"([^\"]*)\"").matcher(partHeaders);
                Matcher file = Pattern.compile("(?i)\\bfilename=\"([^\"]*)\"").matcher(partHeaders);
                if (name.find() && file.find() && seen.add(name.group(1))) {
                    byte[] content = java.util.Arrays.copyOfRange(body, headersEnd + 4, next);
                    files.put(name.group(1), content.length == 0 ? null : content);
                }
                at = next + 2;
            }
        }

        private static int indexOf(byte[] data, byte[] what, int from) {
            outer:
            for (int i = Math.max(0, from); i + what.length <= data.length; i++) {
                for (int j = 0; j < what.length; j++) {
                    if (data[i + j] != what[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }
}
