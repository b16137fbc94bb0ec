package io.jfrebpf.convert;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The gate's limits, {@code key=value} on the command line: how much more the same work may cost
 * before the build fails. CPU is compared as time (samples times the period each stands for):
 * the whole recording's CPU time may grow by a quarter ({@code cpu.total=1.25}), one method's by
 * half ({@code cpu.method=1.5}) — and each change must also stand out of the sampling noise: more
 * than {@code cpu.noise=4} standard deviations of the difference of two sample counts (Poisson),
 * so a few samples more or less never fail a build, while 117 against 320 does. Recordings with
 * fewer than {@code cpu.min} CPU samples are not judged on CPU. A method's share of the samples is
 * shown beside its time; it is a limit of its own only when asked for ({@code cpu.share=10}
 * percentage points; {@code cpu} is its former name): a share grows when another method got
 * faster, which costs nothing. A latency p99 must double (syscalls) or grow by half (queries), a
 * statement's server time in all grow by half, each by a floor in absolute terms too, so that
 * microseconds of jitter on tiny numbers never fail a build. {@code key=off} disables one.
 */
record Limits(double cpuTotal, double cpuMethod, double cpuShare, long cpuMin, double cpuNoise, double syscallP99, double queryP99,
        double queryTotal, double connectionBytes, double leakedBytes) {
    /** Absolute floors under which a change is noise whatever its ratio. */
    static final long SYSCALL_FLOOR_NS = 1_000_000;
    static final long QUERY_FLOOR_NS = 2_000_000;
    static final long QUERY_TOTAL_FLOOR_NS = 100_000_000;
    static final long CONNECTION_BYTES_FLOOR = 10 * 1024;
    static final long LEAK_FLOOR = 1 << 20;
    /** Figures from fewer observations than these are not compared. */
    static final double MIN_CPU_SHARE = 0.01;
    static final long MIN_METHOD_SAMPLES = 20;
    static final long MIN_SYSCALLS = 100;
    static final long MIN_QUERIES = 20;
    static final long MIN_CONNECTIONS = 5;

    static final double OFF = Double.NaN;

    static Limits defaults() {
        return new Limits(1.25, 1.5, OFF, 50, 4, 2, 1.5, 1.5, 1.5, 2);
    }

    static Limits parse(List<String> args) {
        Map<String, Double> v = new LinkedHashMap<>();
        Limits d = defaults();
        v.put("cpu.total", d.cpuTotal);
        v.put("cpu.method", d.cpuMethod);
        v.put("cpu.share", d.cpuShare);
        v.put("cpu.min", (double) d.cpuMin);
        v.put("cpu.noise", d.cpuNoise);
        v.put("syscall.p99", d.syscallP99);
        v.put("query.p99", d.queryP99);
        v.put("query.total", d.queryTotal);
        v.put("conn.bytes", d.connectionBytes);
        v.put("leak", d.leakedBytes);
        for (String a : args) {
            int eq = a.indexOf('=');
            String given = eq > 0 ? a.substring(0, eq) : a;
            String key = given.equals("cpu") ? "cpu.share" : given;
            if (eq <= 0 || !v.containsKey(key)) {
                throw new IllegalArgumentException("gate: '" + a + "' is not a limit; limits: " + d.describe());
            }
            String value = a.substring(eq + 1).trim().toLowerCase(Locale.ROOT);
            if (value.equals("off") && !key.equals("cpu.min")) {
                v.put(key, OFF);
                continue;
            }
            try {
                double x = Double.parseDouble(value.endsWith("x") || value.endsWith("pp") ? value.replaceAll("(x|pp)$", "") : value);
                boolean points = key.equals("cpu.share") || key.equals("cpu.noise");
                boolean count = key.equals("cpu.min");
                if (!(x > 0) || Double.isInfinite(x) || (!points && !count && x < 1) || (count && x != Math.rint(x))) {
                    throw new NumberFormatException();
                }
                v.put(key, x);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("gate: limit " + given + " has bad value '" + a.substring(eq + 1) + "'; "
                        + switch (key) {
                            case "cpu.share" -> "percentage points above 0, e.g. cpu.share=10, or off";
                            case "cpu.min" -> "a whole number of samples, e.g. cpu.min=100";
                            case "cpu.noise" -> "standard deviations of the sampling noise above 0, e.g. cpu.noise=3, or off";
                            default -> "a ratio of at least 1, e.g. " + key + "=1.5, or off";
                        });
            }
        }
        return new Limits(v.get("cpu.total"), v.get("cpu.method"), v.get("cpu.share"), v.get("cpu.min").longValue(), v.get("cpu.noise"),
                v.get("syscall.p99"), v.get("query.p99"), v.get("query.total"), v.get("conn.bytes"), v.get("leak"));
    }

    String describe() {
        return String.format(Locale.ROOT, "cpu.total=%s (ratio of the CPU time in all), cpu.method=%s (ratio of one method's CPU"
                + " time), both beyond cpu.noise=%s standard deviations of the sampling noise (off: the ratio alone); cpu.share=%s (percentage points a method's"
                + " share of the samples may grow); cpu.min=%d (CPU samples each recording needs to be judged); syscall.p99=%s"
                + " (ratio, and +1 ms), query.p99=%s (ratio, and +2 ms), query.total=%s (a statement's server time in all: ratio,"
                + " and +100 ms), conn.bytes=%s (bytes per connection: ratio, and +10 KB), leak=%s (leaked bytes: ratio, and"
                + " +1 MB); any but cpu.min =off", show(cpuTotal), show(cpuMethod), show(cpuNoise), show(cpuShare), cpuMin,
                show(syscallP99), show(queryP99), show(queryTotal), show(connectionBytes), show(leakedBytes));
    }

    static String show(double x) {
        return Double.isNaN(x) ? "off" : x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x);
    }
}
