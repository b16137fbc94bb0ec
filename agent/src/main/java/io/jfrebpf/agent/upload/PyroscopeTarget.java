package io.jfrebpf.agent.upload;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where {@code upload=} sends, and as whom: the server's base URL, the credentials and tenant, extra
 * headers, and the upload period. Taken from the options and, key by key where an option is not
 * given, from the environment variables pyroscope-java reads (its Config and PyroscopeExporter):
 *
 * <pre>
 * upload.user      PYROSCOPE_BASIC_AUTH_USER       basic auth (Grafana Cloud: the stack's user id)
 * upload.password  PYROSCOPE_BASIC_AUTH_PASSWORD   basic auth (Grafana Cloud: an access policy token)
 * upload.token     PYROSCOPE_AUTH_TOKEN            Authorization: Bearer
 * upload.tenant    PYROSCOPE_TENANT_ID             X-Scope-OrgID (a multi-tenant server answers 401 without)
 * upload.headers   PYROSCOPE_HTTP_HEADERS          extra headers: Name:value+Name:value, or the JSON object pyroscope-java takes
 * </pre>
 *
 * As in pyroscope-java, basic auth wins over credentials in the URL ({@code https://user:pass@host}),
 * which win over a token, and these win over an {@code Authorization} among the extra headers.
 * No credential, header value or tenant ever appears in a log line, an error message, an event or
 * {@link #toString}.
 */
public record PyroscopeTarget(URI base, String authorization, String authKind, String tenant, Map<String, String> headers,
        Duration interval, boolean secretOnCommandLine) {

    /** How often the live profiles are pushed when {@code upload.interval} is not given: pyroscope-java's default. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
    /** The option keys, beside {@code upload} and {@code upload.interval}. */
    public static final List<String> KEYS = List.of("upload.user", "upload.password", "upload.token", "upload.tenant", "upload.headers");
    static final String ENV_USER = "PYROSCOPE_BASIC_AUTH_USER";
    static final String ENV_PASSWORD = "PYROSCOPE_BASIC_AUTH_PASSWORD";
    static final String ENV_TOKEN = "PYROSCOPE_AUTH_TOKEN";
    static final String ENV_TENANT = "PYROSCOPE_TENANT_ID";
    static final String ENV_HEADERS = "PYROSCOPE_HTTP_HEADERS";
    /** Headers the agent sets itself, or that the JDK's client does not let be set. */
    private static final Set<String> OWN_HEADERS = Set.of("content-type", "content-length", "host", "connection",
            "transfer-encoding", "expect", "upgrade", "te", "trailer", "keep-alive", "content-encoding");

    public PyroscopeTarget {
        headers = Map.copyOf(headers);
    }

    /**
     * The target of {@code upload=url} with the {@code upload.*} options given (by key) and the
     * environment. {@code commandLine}: the keys given in the {@code -javaagent} argument, which
     * JFR records (jdk.JVMInformation) and {@code ps} shows.
     */
    public static PyroscopeTarget parse(String url, Map<String, String> options, Map<String, String> env, Duration interval,
            Set<String> commandLine) {
        URI uri = base(url);
        String userInfo = uri.getRawUserInfo();
        URI base;
        try {
            base = new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), stripSlash(uri.getPath()), null, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("option 'upload' has a bad URL (" + base(url).getHost() + ")");
        }
        String user = pick(options, env, "upload.user", ENV_USER);
        String password = pick(options, env, "upload.password", ENV_PASSWORD);
        String token = pick(options, env, "upload.token", ENV_TOKEN);
        String tenant = pick(options, env, "upload.tenant", ENV_TENANT);
        if ((user == null) != (password == null)) {
            throw new IllegalArgumentException("option 'upload.user' goes with 'upload.password' (or '" + ENV_USER + "' with '"
                    + ENV_PASSWORD + "'): basic auth needs both");
        }
        String authorization = null;
        String kind = "no credentials";
        if (user != null) {
            authorization = basic(user, password, "upload.user");
            kind = "basic auth";
        } else if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            if (colon <= 0 || colon == userInfo.length() - 1) {
                throw new IllegalArgumentException("option 'upload' has credentials in its URL without user and password;"
                        + " give https://user:password@host, or upload.user and upload.password");
            }
            authorization = basic(percentDecoded(userInfo.substring(0, colon)), percentDecoded(userInfo.substring(colon + 1)), "upload");
            kind = "basic auth";
        } else if (token != null) {
            checkValue(token, "upload.token", ENV_TOKEN);
            authorization = "Bearer " + token;
            kind = "bearer token";
        }
        if (tenant != null) {
            checkValue(tenant, "upload.tenant", ENV_TENANT);
        }
        Map<String, String> headers = options.containsKey("upload.headers") ? headers(options.get("upload.headers"))
                : env.containsKey(ENV_HEADERS) && !env.get(ENV_HEADERS).isBlank() ? jsonHeaders(env.get(ENV_HEADERS)) : Map.of();
        boolean onCommandLine = commandLine.contains("upload.password") || commandLine.contains("upload.token")
                || commandLine.contains("upload.headers") || commandLine.contains("upload") && userInfo != null;
        return new PyroscopeTarget(base, authorization, kind, tenant, headers, interval, onCommandLine);
    }

    /** {@code upload=}'s URL as given (credentials included): http or https with a host. */
    static URI base(String text) {
        try {
            URI uri = new URI(text.strip());
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return uri;
            }
        } catch (URISyntaxException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("option 'upload' has a bad value" + (text.contains("@") ? "" : " '" + text + "'")
                + "; accepted: the base URL of a Pyroscope server, e.g. http://127.0.0.1:4040 or https://profiles-prod-001.grafana.net");
    }

    /** The URL of the ingest API. */
    public URI ingest() {
        return URI.create(base + "/ingest");
    }

    /** The base URL, which has no credentials: what logs and events may show. */
    public String server() {
        return base.toString();
    }

    /** The headers of each request: the extra ones, then the tenant and the credentials over them. */
    Map<String, String> requestHeaders() {
        Map<String, String> h = new LinkedHashMap<>();
        headers.forEach((k, v) -> {
            boolean overridden = authorization != null && k.equalsIgnoreCase("Authorization")
                    || tenant != null && k.equalsIgnoreCase("X-Scope-OrgID");
            if (!overridden) {
                h.put(k, v);
            }
        });
        if (tenant != null) {
            h.put("X-Scope-OrgID", tenant);
        }
        if (authorization != null) {
            h.put("Authorization", authorization);
        }
        return h;
    }

    /** Every secret this target holds, for scrubbing what a server sends back before it is logged. */
    List<String> secrets() {
        List<String> s = new java.util.ArrayList<>(headers.values());
        if (authorization != null) {
            s.add(authorization);
            s.add(authorization.substring(authorization.indexOf(' ') + 1));
        }
        return s;
    }

    /** Says what is set, never what it is. */
    @Override
    public String toString() {
        return server() + " (" + authKind + (tenant != null ? ", a tenant" : "") + (headers.isEmpty() ? "" : ", " + headers.size()
                + " extra header" + (headers.size() == 1 ? "" : "s")) + ", every " + interval.toMillis() + " ms)";
    }

    private static String pick(Map<String, String> options, Map<String, String> env, String key, String envName) {
        String v = options.containsKey(key) ? options.get(key) : env.get(envName);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static String basic(String user, String password, String key) {
        checkValue(user, key, ENV_USER);
        checkValue(password, key.equals("upload") ? "upload" : "upload.password", ENV_PASSWORD);
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** A value that goes into a header: no control characters (they would end it). */
    private static void checkValue(String value, String key, String envName) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new IllegalArgumentException("option '" + key + "' (or '" + envName + "') has a control character;"
                        + " its value is not shown");
            }
        }
    }

    /** {@code Name:value+Name:value} (values with '+' or ',' go in PYROSCOPE_HTTP_HEADERS). */
    static Map<String, String> headers(String text) {
        Map<String, String> h = new LinkedHashMap<>();
        for (String item : text.split("\\+")) {
            if (item.isBlank()) {
                continue;
            }
            int colon = item.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("option 'upload.headers' has an item that is not Name:value"
                        + "; accepted: headers joined with +, e.g. upload.headers=X-Team:payments+X-Env:prod");
            }
            header(h, item.substring(0, colon).strip(), item.substring(colon + 1).strip(), "upload.headers");
        }
        return h;
    }

    /** pyroscope-java's form of PYROSCOPE_HTTP_HEADERS: a JSON object of strings. */
    static Map<String, String> jsonHeaders(String json) {
        Map<String, String> h = new LinkedHashMap<>();
        Json p = new Json(json);
        p.skip();
        p.expect('{');
        p.skip();
        if (!p.take('}')) {
            do {
                p.skip();
                String name = p.string();
                p.skip();
                p.expect(':');
                p.skip();
                String value = p.string();
                header(h, name, value, ENV_HEADERS);
                p.skip();
            } while (p.take(','));
            p.expect('}');
        }
        p.skip();
        if (!p.atEnd()) {
            throw p.bad();
        }
        return h;
    }

    private static void header(Map<String, String> h, String name, String value, String key) {
        if (name.isEmpty() || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
            throw new IllegalArgumentException("option '" + key + "' has a bad header name; accepted: letters, digits and - (e.g. X-Team)");
        }
        if (OWN_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("option '" + key + "' sets header '" + name + "', which the agent sets itself");
        }
        checkValue(value, key, ENV_HEADERS);
        h.put(name, value);
    }

    /** %XX escapes only: a '+' in a URL's user info is a '+'. */
    private static String percentDecoded(String raw) {
        return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String stripSlash(String path) {
        String p = path == null ? "" : path;
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    /** Just enough JSON for an object of strings; errors never show the text (it may hold secrets). */
    private static final class Json {
        private final String s;
        private int at;

        Json(String s) {
            this.s = s;
        }

        void skip() {
            while (at < s.length() && Character.isWhitespace(s.charAt(at))) {
                at++;
            }
        }

        boolean atEnd() {
            return at >= s.length();
        }

        boolean take(char c) {
            if (at < s.length() && s.charAt(at) == c) {
                at++;
                return true;
            }
            return false;
        }

        void expect(char c) {
            if (!take(c)) {
                throw bad();
            }
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (at < s.length()) {
                char c = s.charAt(at++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                if (at >= s.length()) {
                    break;
                }
                char e = s.charAt(at++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (at + 4 > s.length()) {
                            throw bad();
                        }
                        try {
                            b.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                        } catch (NumberFormatException x) {
                            throw bad();
                        }
                        at += 4;
                    }
                    default -> throw bad();
                }
            }
            throw bad();
        }

        IllegalArgumentException bad() {
            return new IllegalArgumentException("environment variable '" + ENV_HEADERS + "' is not a JSON object of strings"
                    + " (at character " + at + "; its text is not shown), e.g. {\"X-Team\":\"payments\"}");
        }
    }
}
