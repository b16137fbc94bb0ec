package io.jfrebpf.bench;

import static io.jfrebpf.bench.Measure.log;
import static io.jfrebpf.bench.Measure.median;
import static io.jfrebpf.bench.Measure.parse;

import io.jfrebpf.events.read.EventNames;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * The PostgreSQL benchmark, against a server bench/postgres.sh started: JDBC throughput (prepared
 * statements on 2 connections) with no agent, the postgres probe (with tcp, which tells it of new
 * connections), the default probes and async-profiler, interleaved round by round; the tax on
 * another client of the same server (pgbench -S) while a JVM with each configuration has
 * backends of its own followed; and how soon after a connection opens its statements are seen.
 * Usage: {@code PostgresBench agent.jar bench-classes postgresql.jar out-dir port [rounds] [seconds] [libasyncProfiler.so]}.
 */
public final class PostgresBench {
    private final Path agentJar;
    private final String classPath;
    private final Path out;
    private final int port;
    private final int rounds;
    private final double seconds;
    private final Path asyncProfiler;
    private final Path java = Path.of(System.getProperty("java.home"), "bin", "java");

    private PostgresBench(String[] args) {
        agentJar = Path.of(args[0]).toAbsolutePath();
        classPath = Path.of(args[1]).toAbsolutePath() + File.pathSeparator + Path.of(args[2]).toAbsolutePath();
        out = Path.of(args[3]).toAbsolutePath();
        port = Integer.parseInt(args[4]);
        rounds = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        seconds = args.length > 6 ? Double.parseDouble(args[6]) : 5;
        asyncProfiler = args.length > 7 ? Path.of(args[7]).toAbsolutePath() : null;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: PostgresBench agent.jar bench-classes postgresql.jar out-dir port [rounds] [seconds] [libasyncProfiler.so]");
            System.exit(2);
        }
        new PostgresBench(args).run();
    }

    private String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
    }

    private void run() throws Exception {
        Files.createDirectories(out);
        Map<String, String> configs = new LinkedHashMap<>();
        configs.put("no agent", null);
        configs.put("probes=tcp+postgres", "probes=tcp+postgres");
        configs.put("default probes", "");
        if (asyncProfiler != null) {
            configs.put("async-profiler (cpu, 10 ms, jfr)", Measure.PEER);
        }
        Map<String, List<Double>> throughput = new LinkedHashMap<>();
        Map<String, long[]> events = new LinkedHashMap<>();
        Map<String, List<Double>> tax = new LinkedHashMap<>();
        tax.put("no JVM", new ArrayList<>());
        configs.keySet().forEach(k -> tax.put(k, new ArrayList<>()));
        List<String> kinds = List.of("trivial", "range");
        for (int round = 1; round <= rounds; round++) {
            for (String kind : kinds) {
                for (Map.Entry<String, String> c : configs.entrySet()) {
                    log("round %d/%d: throughput, %s statement, %s", round, rounds, kind, c.getKey());
                    Path recording = out.resolve("pg-" + round + ".jfr");
                    Files.deleteIfExists(recording);
                    List<String> cmd = jvm(c.getValue(), recording);
                    cmd.addAll(List.of(PostgresWorkload.class.getName(), "throughput", url(), "2", String.valueOf(seconds), kind));
                    String output = Measure.run(cmd, out);
                    String key = kind + "|" + c.getKey();
                    throughput.computeIfAbsent(key, k -> new ArrayList<>()).add(parse(output, "ops/s=([0-9.]+)"));
                    if (c.getValue() != null && !c.getValue().equals(Measure.PEER)) {
                        long[] n = events.computeIfAbsent(key, k -> new long[2]);
                        long[] counted = queriesAndLost(recording);
                        n[0] += counted[0];
                        n[1] += counted[1];
                    }
                    Files.deleteIfExists(recording);
                }
            }
            log("round %d/%d: another client (pgbench -S), no JVM", round, rounds);
            tax.get("no JVM").add(pgbenchTps());
            for (Map.Entry<String, String> c : configs.entrySet()) {
                log("round %d/%d: another client (pgbench -S), JVM with %s", round, rounds, c.getKey());
                tax.get(c.getKey()).add(pgbenchWhileJvm(c.getValue()));
            }
        }
        StringBuilder report = new StringBuilder();
        report.append(String.format(Locale.ROOT, "## JDBC prepared statements on 2 connections (%.0f s, median of %d)%n%n"
                + "`trivial`: `%s` (the server does next to nothing); `range`: `%s`%n%n", seconds, rounds,
                PostgresWorkload.TRIVIAL, PostgresWorkload.RANGE));
        report.append("| configuration | trivial queries/s | vs no agent | range queries/s | vs no agent | PostgresQuery events (all) | lost |\n"
                + "|---|---|---|---|---|---|---|\n");
        double baseTrivial = median(throughput.get("trivial|no agent"));
        double baseRange = median(throughput.get("range|no agent"));
        for (String k : configs.keySet()) {
            double t = median(throughput.get("trivial|" + k));
            double r = median(throughput.get("range|" + k));
            long[] a = events.get("trivial|" + k);
            long[] b = events.get("range|" + k);
            report.append(String.format(Locale.ROOT, "| %s | %.0f | %.3f | %.0f | %.3f | %s | %s |%n", k, t, t / baseTrivial, r,
                    r / baseRange, a == null ? "-" : String.format(Locale.ROOT, "%,d", a[0] + b[0]),
                    a == null ? "-" : String.valueOf(a[1] + b[1])));
        }
        report.append(String.format(Locale.ROOT,
                "%n## Another client of the same server: pgbench -S, 1 connection, %.0f s, while a JVM has 2 followed backends (median of %d)%n%n",
                seconds, rounds));
        report.append("| configuration of that JVM | pgbench tps | vs no JVM |\n|---|---|---|\n");
        double noJvm = median(tax.get("no JVM"));
        for (Map.Entry<String, List<Double>> e : tax.entrySet()) {
            double m = median(e.getValue());
            report.append(String.format(Locale.ROOT, "| %s | %.0f | %.3f |%n", e.getKey(), m, m / noJvm));
        }
        report.append(latency());
        Files.writeString(out.resolve("postgres.md"), report);
        System.out.println();
        System.out.println(report);
        log("report written to %s", out.resolve("postgres.md"));
    }

    private List<String> jvm(String options, Path recording) {
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-XX:+PreserveFramePointer", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(Measure.agentFlags(agentJar, asyncProfiler, options, recording));
        cmd.addAll(List.of("-cp", classPath));
        return cmd;
    }

    /** ebpf.PostgresQuery events, and the postgres probe's losses. */
    private static long[] queriesAndLost(Path recording) throws IOException {
        long queries = 0;
        long lost = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
            String type = e.getEventType().getName();
            if (type.equals(EventNames.POSTGRES_QUERY)) {
                queries++;
            } else if (type.equals(EventNames.PROBE_STATUS) && e.getString("probe").equals("postgres")) {
                lost += e.getLong("lost");
            }
        }
        return new long[] {queries, lost};
    }

    private double pgbenchTps() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pgbench", "-S", "-n",
                "-c", "1", "-T", String.valueOf((int) Math.max(1, seconds)), "-h", "127.0.0.1", "-p", String.valueOf(port),
                "postgres").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("pgbench failed: " + output);
        }
        return parse(output, "tps = ([0-9.]+)");
    }

    private double pgbenchWhileJvm(String options) throws Exception {
        Path signal = out.resolve("pg-signal");
        Files.deleteIfExists(signal);
        Path recording = out.resolve("pg-idle.jfr");
        List<String> cmd = jvm(options, recording);
        cmd.addAll(List.of(PostgresWorkload.class.getName(), "idle", url(), signal.toString()));
        Path log = Files.createTempFile(out, "pg-idle", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(log).contains("ready") && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (!Files.readString(log).contains("ready")) {
                throw new IOException("idle JVM did not start: " + Files.readString(log));
            }
            Thread.sleep(500);
            return pgbenchTps();
        } finally {
            Files.writeString(signal, "stop");
            p.waitFor(60, TimeUnit.SECONDS);
            p.destroyForcibly();
            Files.deleteIfExists(log);
            Files.deleteIfExists(recording);
        }
    }

    /** Per connection: how long after it opened the first statement the recording holds was sent. */
    private String latency() throws Exception {
        int connections = 20;
        log("latency: %d new connections under the default probes", connections);
        Path recording = out.resolve("pg-latency.jfr");
        Files.deleteIfExists(recording);
        List<String> cmd = jvm("postgres.redact=false", recording);
        cmd.addAll(List.of(PostgresWorkload.class.getName(), "latency", url(), String.valueOf(connections)));
        Measure.run(cmd, out);
        Map<Integer, Long> firstSeen = new TreeMap<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
            if (!e.getEventType().getName().equals(EventNames.POSTGRES_QUERY)) {
                continue;
            }
            String q = e.getString("query");
            if (q.startsWith("SELECT ") && q.endsWith(" AS since_connect_ms")) {
                long ms = Long.parseLong(q.substring(7, q.length() - " AS since_connect_ms".length()));
                firstSeen.merge(e.getInt("clientPort"), ms, Math::min);
            }
        }
        Files.deleteIfExists(recording);
        List<Double> ms = firstSeen.values().stream().map(Long::doubleValue).toList();
        if (ms.isEmpty()) {
            return String.format(Locale.ROOT, "%n## New connections%n%nnone of %d connections was followed%n", connections);
        }
        return String.format(Locale.ROOT,
                "%n## New connections: first statement seen, ms after the connection began to open (pgjdbc, trust auth)%n%n"
                        + "%d of %d connections followed; median %.0f ms, max %.0f ms (statements sent earlier are not seen)%n",
                firstSeen.size(), connections, median(ms), ms.stream().mapToDouble(Double::doubleValue).max().orElse(0));
    }
}
