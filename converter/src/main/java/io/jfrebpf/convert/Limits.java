package io.jfrebpf.convert;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The gate's limits, {@code key=value} on the command line: how much worse a figure may get
 * before the build fails. Defaults chosen to catch a real regression and ignore run-to-run
 * noise: a CPU share must grow by more than 10 percentage points (a method's share of ~500
 * samples varies by ~2 points between identical runs), a latency p99 must double (syscalls) or
 * grow by half (queries) and by a floor in absolute terms, so that microseconds of jitter on
 * tiny numbers never fail a build. A method's CPU share is its part of the samples in Java code;
 * the JVM's own threads (JIT compiler, GC) are one figure apart. {@code key=off} disables one.
 */
record Limits(double cpuPoints, double syscallP99, double queryP99, double connectionBytes, double leakedBytes) {
    /** Absolute floors under which a change is noise whatever its ratio. */
    static final long SYSCALL_FLOOR_NS = 1_000_000;
    static final long QUERY_FLOOR_NS = 2_000_000;
    static final long CONNECTION_BYTES_FLOOR = 10 * 1024;
    static final long LEAK_FLOOR = 1 << 20;
    /** Figures from fewer observations than these are not compared. */
    static final double MIN_CPU_SHARE = 0.01;
    static final long MIN_SYSCALLS = 100;
    static final long MIN_QUERIES = 20;
    static final long MIN_CONNECTIONS = 5;

    static final double OFF = Double.NaN;

    static Limits defaults() {
        return new Limits(10, 2, 1.5, 1.5, 2);
    }

    static Limits parse(List<String> args) {
        Map<String, Double> v = new LinkedHashMap<>();
        Limits d = defaults();
        v.put("cpu", d.cpuPoints);
        v.put("syscall.p99", d.syscallP99);
        v.put("query.p99", d.queryP99);
        v.put("conn.bytes", d.connectionBytes);
        v.put("leak", d.leakedBytes);
        for (String a : args) {
            int eq = a.indexOf('=');
            String key = eq > 0 ? a.substring(0, eq) : a;
            if (eq <= 0 || !v.containsKey(key)) {
                throw new IllegalArgumentException("gate: '" + a + "' is not a limit; limits: " + d.describe());
            }
            String value = a.substring(eq + 1).trim().toLowerCase(Locale.ROOT);
            if (value.equals("off")) {
                v.put(key, OFF);
                continue;
            }
            try {
                double x = Double.parseDouble(value.endsWith("x") || value.endsWith("pp") ? value.replaceAll("(x|pp)$", "") : value);
                if (!(x > 0) || Double.isInfinite(x) || (!key.equals("cpu") && x < 1)) {
                    throw new NumberFormatException();
                }
                v.put(key, x);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("gate: limit " + key + " has bad value '" + a.substring(eq + 1) + "'; "
                        + (key.equals("cpu") ? "percentage points above 0, e.g. cpu=10" : "a ratio of at least 1, e.g. " + key + "=1.5")
                        + ", or off");
            }
        }
        return new Limits(v.get("cpu"), v.get("syscall.p99"), v.get("query.p99"), v.get("conn.bytes"), v.get("leak"));
    }

    String describe() {
        return String.format(Locale.ROOT, "cpu=%s (percentage points a method's CPU share may grow), syscall.p99=%s (ratio, and +1 ms), "
                + "query.p99=%s (ratio, and +2 ms), conn.bytes=%s (bytes per connection: ratio, and +10 KB), leak=%s (leaked bytes: "
                + "ratio, and +1 MB); any =off", show(cpuPoints), show(syscallP99), show(queryP99), show(connectionBytes),
                show(leakedBytes));
    }

    private static String show(double x) {
        return Double.isNaN(x) ? "off" : x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x);
    }
}
