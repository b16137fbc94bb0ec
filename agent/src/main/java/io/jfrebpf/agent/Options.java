package io.jfrebpf.agent;

import io.jfrebpf.agent.jfr.JfrSettings;
import io.jfrebpf.agent.upload.PyroscopeTarget;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's options, as in design.md: {@code key=value,key=value}, from the {@code -javaagent:}
 * argument and from the environment variable {@code JFR_EBPF_OPTIONS} (the agent argument wins per
 * key). Lists use {@code +}. Every bad key or value is an {@link IllegalArgumentException} whose
 * message names the key and the accepted values: the agent prints it as one line and stays off.
 */
public record Options(
        String file,
        Set<ProbeName> probes,
        int cpuHz,
        Duration syscallThreshold,
        Duration offcpuThreshold,
        boolean offcpuVirtual,
        Duration schedThreshold,
        long mallocInterval,
        Optional<Duration> mallocDuration,
        Optional<Duration> mallocAge,
        JfrSettings jfr,
        Optional<Duration> duration,
        Optional<PyroscopeTarget> upload,
        Optional<Duration> interval,
        List<String> redactPaths,
        boolean postgresRedact,
        int maxFiles,
        long maxSize,
        Optional<String> service,
        boolean jfrEnvironment,
        Startup startup,
        Jit jit,
        Log.Level log) {

    public static final String ENV = "JFR_EBPF_OPTIONS";
    /**
     * The age from which an allocation not freed is a leak suspect when malloc.age is not given:
     * this, or half the time the probe traced when that is shorter (a CI capture of a few
     * seconds still reports what it leaked in its first half).
     */
    public static final Duration DEFAULT_MALLOC_AGE = Duration.ofSeconds(10);
    public static final String DEFAULT_FILE = "jfr-ebpf-%p.jfr";

    /** The probes= names of design.md. */
    public enum ProbeName {
        CPU, OFFCPU, SYSCALL, FILE, TCP, MALLOC, POSTGRES, SCHED;

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }

        static String accepted() {
            StringBuilder b = new StringBuilder();
            for (ProbeName p : values()) {
                b.append(p.key()).append(' ');
            }
            return b.append("all").toString();
        }
    }

    /**
     * When the application's {@code main} starts: at once, while the agent loads and attaches its
     * probes on its own thread (what happens before they are attached is not seen), or after they
     * are attached (for short captures, e.g. in CI).
     */
    public enum Startup {
        ASYNC, WAIT;

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How the JIT compiles the agent's own code (jvm.AgentCompilation): C1 only, or as the application's. */
    public enum Jit {
        C1, TIERED;

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final Set<ProbeName> DEFAULT_PROBES = Collections.unmodifiableSet(EnumSet.of(
            ProbeName.CPU, ProbeName.OFFCPU, ProbeName.FILE, ProbeName.TCP, ProbeName.POSTGRES));

    private static final List<String> KEYS = List.of("file", "probes", "cpu.hz", "syscall.threshold",
            "offcpu.threshold", "offcpu.virtual", "sched.threshold", "malloc.interval", "malloc.duration", "malloc.age", "jfr", "duration", "upload", "upload.interval", "upload.user", "upload.password", "upload.token", "upload.tenant", "upload.headers", "interval", "redact.paths", "postgres.redact", "maxfiles", "maxsize", "service", "jfr.environment", "startup", "jit", "log");

    public static Options defaults() {
        return parse("");
    }

    /**
     * Options from the environment variable, overridden key by key by the agent argument; upload's
     * credentials also from pyroscope-java's variables ({@link PyroscopeTarget}).
     */
    public static Options fromAgentArgs(String agentArgs, Map<String, String> env) {
        Map<String, String> merged = new LinkedHashMap<>(split(env.getOrDefault(ENV, ""), ENV));
        Map<String, String> argument = split(agentArgs == null ? "" : agentArgs, "-javaagent");
        merged.putAll(argument);
        return of(merged, env, argument.keySet());
    }

    public static Options parse(String text) {
        Map<String, String> v = split(text, "-javaagent");
        return of(v, Map.of(), v.keySet());
    }

    private static Map<String, String> split(String text, String source) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String item = part.strip();
            if (item.isEmpty()) {
                continue;
            }
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("option '" + item + "' in " + source
                        + " is not key=value; keys: " + String.join(" ", KEYS));
            }
            String key = item.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown option '" + key + "' in " + source
                        + "; keys: " + String.join(" ", KEYS));
            }
            if (values.put(key, item.substring(eq + 1).strip()) != null) {
                throw new IllegalArgumentException("option '" + key + "' is given twice in " + source);
            }
        }
        return values;
    }

    private static Options of(Map<String, String> v, Map<String, String> env, java.util.Set<String> commandLine) {
        String file = v.getOrDefault("file", DEFAULT_FILE);
        if (file.isBlank()) {
            throw new IllegalArgumentException("option 'file' is empty; give a path, e.g. file=/tmp/app-%p.jfr (%p pid, %t timestamp)");
        }
        if ((v.containsKey("maxfiles") || v.containsKey("maxsize")) && !v.containsKey("interval")) {
            throw new IllegalArgumentException("options 'maxfiles' and 'maxsize' bound the slices of a recording cut by"
                    + " 'interval'; give interval= too, e.g. interval=10m,maxfiles=12");
        }
        Optional<Duration> interval = optionalDuration("interval", v.get("interval"), false);
        if (interval.isPresent() && interval.get().compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("option 'interval' must be at least 1s (a slice is a whole recording)");
        }
        return new Options(
                file,
                probes(v.get("probes")),
                (int) positiveLong("cpu.hz", v.get("cpu.hz"), 99, 1, 10_000),
                duration("syscall.threshold", v.get("syscall.threshold"), Duration.ofMillis(1), true),
                duration("offcpu.threshold", v.get("offcpu.threshold"), Duration.ofMillis(1), true),
                bool("offcpu.virtual", v.get("offcpu.virtual"), false),
                duration("sched.threshold", v.get("sched.threshold"), Duration.ofMillis(1), true),
                mallocInterval(v.get("malloc.interval")),
                optionalDuration("malloc.duration", v.get("malloc.duration"), false),
                optionalDuration("malloc.age", v.get("malloc.age"), true),
                choice("jfr", v.get("jfr"), JfrSettings.values(), JfrSettings.DEFAULT, "default profile none"),
                optionalDuration("duration", v.get("duration"), false),
                upload(v, env, commandLine),
                interval,
                redactPaths(v.get("redact.paths")),
                bool("postgres.redact", v.get("postgres.redact"), true),
                (int) positiveLong("maxfiles", v.get("maxfiles"), 0, 1, 1_000_000),
                size("maxsize", v.get("maxsize"), 0),
                v.get("service") == null ? Optional.empty() : Optional.of(service(v.get("service"))),
                bool("jfr.environment", v.get("jfr.environment"), false),
                choice("startup", v.get("startup"), Startup.values(), Startup.ASYNC,
                        "async (main starts at once) wait (main starts once the probes are attached)"),
                choice("jit", v.get("jit"), Jit.values(), Jit.C1, "c1 tiered"),
                choice("log", v.get("log"), Log.Level.values(), Log.Level.INFO, "error warn info debug"));
    }

    /** Absolute directories joined with +, e.g. /home+/run/secrets; trailing slashes dropped. */
    private static List<String> redactPaths(String text) {
        if (text == null || text.isBlank()) {
            return List.of();
        }
        List<String> prefixes = new java.util.ArrayList<>();
        for (String part : text.split("\\+")) {
            String p = part.strip();
            while (p.length() > 1 && p.endsWith("/")) {
                p = p.substring(0, p.length() - 1);
            }
            if (!p.startsWith("/") || p.equals("/")) {
                throw new IllegalArgumentException("option 'redact.paths' has bad value '" + part
                        + "'; accepted: absolute directories other than / joined with +, e.g. /home+/run/secrets");
            }
            prefixes.add(p);
        }
        return List.copyOf(prefixes);
    }

    private static Set<ProbeName> probes(String text) {
        if (text == null) {
            return DEFAULT_PROBES;
        }
        EnumSet<ProbeName> set = EnumSet.noneOf(ProbeName.class);
        for (String name : text.split("\\+")) {
            String n = name.strip().toLowerCase(Locale.ROOT);
            if (n.equals("all")) {
                set.addAll(EnumSet.allOf(ProbeName.class));
                continue;
            }
            ProbeName found = null;
            for (ProbeName p : ProbeName.values()) {
                if (p.key().equals(n)) {
                    found = p;
                }
            }
            if (found == null) {
                throw new IllegalArgumentException("option 'probes' has unknown probe '" + n
                        + "'; accepted: " + ProbeName.accepted() + " (joined with +, e.g. probes=cpu+tcp)");
            }
            set.add(found);
        }
        return Collections.unmodifiableSet(set);
    }

    /**
     * The option's patterns, compiled when a duration or size is given (most start-ups give
     * none: a regular expression costs the JVM lambda classes and JIT work at its first use).
     */
    private static final class Patterns {
        static final Pattern DURATION = Pattern.compile("(\\d+)(ns|us|ms|s|m|h)?");
        static final Pattern SIZE = Pattern.compile("(\\d+)([kmg]?)b?");
    }

    /** An optional duration option: empty when not given. */
    private static Optional<Duration> optionalDuration(String key, String text, boolean zeroAllowed) {
        return text == null ? Optional.empty() : Optional.of(duration(key, text, null, zeroAllowed));
    }

    static Duration duration(String key, String text, Duration fallback, boolean zeroAllowed) {
        if (text == null) {
            return fallback;
        }
        Matcher m = Patterns.DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
        String accepted = "a number with a unit ns us ms s m h, e.g. 10ms, 20s, 10m"
                + (zeroAllowed ? ", or 0" : "");
        if (!m.matches()) {
            throw new IllegalArgumentException("option '" + key + "' has bad value '" + text + "'; accepted: " + accepted);
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option '" + key + "' value '" + text + "' is too large; accepted: " + accepted);
        }
        String unit = m.group(2);
        if (unit == null && n != 0) {
            throw new IllegalArgumentException("option '" + key + "' value '" + text + "' has no unit; accepted: " + accepted);
        }
        if (n == 0 && !zeroAllowed) {
            throw new IllegalArgumentException("option '" + key + "' must be greater than 0; accepted: " + accepted);
        }
        try {
            return switch (unit == null ? "ns" : unit) {
                case "ns" -> Duration.ofNanos(n);
                case "us" -> Duration.ofNanos(Math.multiplyExact(n, 1000L));
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> throw new IllegalStateException(unit);
            };
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("option '" + key + "' value '" + text + "' is too large; accepted: " + accepted);
        }
    }

    /** The kernel computes size * 2^32 / interval in 64 bits: the interval must stay below 4 GiB. */
    static final long MAX_MALLOC_INTERVAL = (1L << 32) - 1;

    private static long mallocInterval(String text) {
        long n = size("malloc.interval", text, 512 * 1024);
        if (n > MAX_MALLOC_INTERVAL) {
            throw new IllegalArgumentException("option 'malloc.interval' value '" + text
                    + "' is too large; accepted: 0 (every call) to 4g - 1 bytes, e.g. 512k");
        }
        return n;
    }

    static long size(String key, String text, long fallback) {
        if (text == null) {
            return fallback;
        }
        Matcher m = Patterns.SIZE.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("option '" + key + "' has bad value '" + text
                    + "'; accepted: bytes with an optional unit k m g, e.g. 512k, or 0");
        }
        long shift = switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        try {
            long n = Long.parseLong(m.group(1));
            if (n > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option '" + key + "' value '" + text + "' is too large");
        }
    }

    private static long positiveLong(String key, String text, long fallback, long min, long max) {
        if (text == null) {
            return fallback;
        }
        try {
            long n = Long.parseLong(text.strip());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("option '" + key + "' has bad value '" + text
                + "'; accepted: a whole number from " + min + " to " + max);
    }


    /** upload= and its upload.* options; the credentials and headers are never shown in an error. */
    private static Optional<PyroscopeTarget> upload(Map<String, String> v, Map<String, String> env, java.util.Set<String> commandLine) {
        if (!v.containsKey("upload")) {
            for (String key : v.keySet()) {
                if (key.startsWith("upload.")) {
                    throw new IllegalArgumentException("option '" + key + "' goes with 'upload', the Pyroscope server's URL; give upload= too");
                }
            }
            return Optional.empty();
        }
        Duration interval = duration("upload.interval", v.get("upload.interval"), PyroscopeTarget.DEFAULT_INTERVAL, false);
        if (interval.compareTo(Duration.ofSeconds(1)) < 0 || interval.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("option 'upload.interval' must be from 1s to 10m (the server refuses profiles"
                    + " older than 1 h); e.g. upload.interval=10s, the default");
        }
        Map<String, String> given = new LinkedHashMap<>();
        for (String key : PyroscopeTarget.KEYS) {
            if (v.containsKey(key)) {
                given.put(key, v.get(key));
            }
        }
        return Optional.of(PyroscopeTarget.parse(v.get("upload"), given, env, interval, commandLine));
    }

    /** A Pyroscope application name: letters, digits and . _ - (it becomes part of a URL query and a label). */
    private static String service(String text) {
        String name = text.strip();
        if (!name.matches("[A-Za-z0-9._-]{1,100}")) {
            throw new IllegalArgumentException("option 'service' has bad value '" + text
                    + "'; accepted: 1 to 100 letters, digits, '.', '_' or '-', e.g. service=checkout");
        }
        return name;
    }

    static boolean bool(String key, String text, boolean fallback) {
        if (text == null) {
            return fallback;
        }
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new IllegalArgumentException("option '" + key + "' has bad value '" + text
                    + "'; accepted: true false");
        };
    }


    /**
     * Whether {@code startup=wait} is asked for, read without parsing the rest (premain decides
     * this before it returns; the full parse, with its errors, runs on the agent's thread).
     * A malformed option string answers false: the agent's thread reports it.
     */
    public static boolean startupWaits(String agentArgs, Map<String, String> env) {
        String value = rawValue(agentArgs, "startup");
        if (value == null) {
            value = rawValue(env.get(ENV), "startup");
        }
        return value != null && value.strip().equalsIgnoreCase(Startup.WAIT.key());
    }

    private static String rawValue(String text, String key) {
        if (text == null) {
            return null;
        }
        int from = 0;
        while (from <= text.length()) {
            int comma = text.indexOf(',', from);
            int end = comma < 0 ? text.length() : comma;
            int eq = text.indexOf('=', from);
            if (eq > from && eq < end && text.substring(from, eq).strip().equalsIgnoreCase(key)) {
                return text.substring(eq + 1, end);
            }
            if (comma < 0) {
                break;
            }
            from = comma + 1;
        }
        return null;
    }



    /**
     * One of an enum's values by its name in any case (the option's accepted words are the
     * lower-case names), the default when the option is absent.
     */
    private static <E extends Enum<E>> E choice(String key, String text, E[] values, E absent, String accepted) {
        if (text == null) {
            return absent;
        }
        for (E e : values) {
            if (e.name().equalsIgnoreCase(text.strip())) {
                return e;
            }
        }
        throw new IllegalArgumentException("option '" + key + "' has bad value '" + text + "'; accepted: " + accepted);
    }

    /** Options in the key=value form they were given, for logs and the recording. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        parts.add("file=" + file);
        List<String> names = new ArrayList<>();
        for (ProbeName p : probes) {
            names.add(p.key());
        }
        parts.add("probes=" + String.join("+", names));
        parts.add("syscall.threshold=" + syscallThreshold.toNanos() + "ns");
        if (offcpuVirtual) {
            parts.add("offcpu.virtual=true");
        }
        parts.add("jfr=" + jfr.key());
        if (jit != Jit.C1) {
            parts.add("jit=" + jit.key());
        }
        if (duration.isPresent()) {
            parts.add("duration=" + duration.get().toMillis() + "ms");
        }
        parts.add("log=" + log.name().toLowerCase(Locale.ROOT));
        return String.join(",", parts);
    }
}
