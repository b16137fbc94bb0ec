package io.jfrebpf.bench;

import static io.jfrebpf.bench.Measure.log;
import static io.jfrebpf.bench.Measure.median;
import static io.jfrebpf.bench.Measure.parse;

import io.jfrebpf.events.read.EventNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * The TCP benchmark, every configuration in the same run, interleaved round by round: the
 * request/response loop of {@link TcpWorkload} on one kept-alive connection and with a new
 * connection per request, with no agent, {@code probes=tcp}, the default probes and
 * async-profiler (cpu, 10 ms, into JFR); the events our runs wrote and lost; and the tax of the
 * tcp probe's socket-send tracepoint on another process that sends on sockets.
 * Usage: {@code TcpBench agent.jar bench-classes sendloop out-dir [rounds] [seconds] [libasyncProfiler.so]}.
 */
public final class TcpBench {
    static final String PEER = Measure.PEER;
    private final BenchArgs a;
    private final Path java = Path.of(System.getProperty("java.home"), "bin", "java");

    private TcpBench(String[] args) {
        a = BenchArgs.parse(args, "TcpBench agent.jar bench-classes sendloop out-dir [rounds] [seconds] [libasyncProfiler.so]");
    }

    public static void main(String[] args) throws Exception {
        new TcpBench(args).run();
    }

    private void run() throws Exception {
        Files.createDirectories(a.out());
        Map<String, String> configs = new LinkedHashMap<>();
        configs.put("no agent", null);
        configs.put("probes=tcp", "probes=tcp");
        configs.put("default probes", "");
        if (a.asyncProfiler() != null) {
            configs.put("async-profiler (cpu, 10 ms, jfr)", PEER);
        }
        List<String> modes = List.of("keepalive", "churn");
        Map<String, List<Double>> throughput = new LinkedHashMap<>();
        Map<String, long[]> events = new LinkedHashMap<>();
        Map<String, List<Double>> tax = new LinkedHashMap<>();
        tax.put("no JVM", new ArrayList<>());
        configs.keySet().forEach(k -> tax.put(k, new ArrayList<>()));

        for (int round = 1; round <= a.rounds(); round++) {
            for (String mode : modes) {
                for (Map.Entry<String, String> c : configs.entrySet()) {
                    log("round %d/%d: %s, %s", round, a.rounds(), mode, c.getKey());
                    Path recording = a.out().resolve("tcp-" + round + ".jfr");
                    Files.deleteIfExists(recording);
                    List<String> cmd = new ArrayList<>(List.of(java.toString(), "-XX:+PreserveFramePointer",
                            "--enable-native-access=ALL-UNNAMED"));
                    cmd.addAll(agentFlags(c.getValue(), recording));
                    cmd.addAll(List.of("-cp", a.classes().toString(), TcpWorkload.class.getName(), mode, String.valueOf(a.seconds())));
                    String output = Measure.run(cmd, a.out());
                    throughput.computeIfAbsent(mode + "|" + c.getKey(), k -> new ArrayList<>()).add(parse(output, "ops/s=(\\d+)"));
                    if (c.getValue() != null && !c.getValue().equals(PEER)) {
                        long[] counted = tcpEvents(recording);
                        events.merge(mode + "|" + c.getKey(), counted, (a, b) -> new long[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]});
                    }
                    Files.deleteIfExists(recording);
                }
            }
            log("round %d/%d: host tax, no JVM", round, a.rounds());
            tax.get("no JVM").add(sendNs());
            for (Map.Entry<String, String> c : configs.entrySet()) {
                log("round %d/%d: host tax, JVM with %s", round, a.rounds(), c.getKey());
                tax.get(c.getKey()).add(taxWhileJvm(c.getValue()));
            }
        }

        StringBuilder report = new StringBuilder();
        report.append(String.format(Locale.ROOT, "## Request/response over loopback (100 B request, 1,000 B answer, %.0f s, median of %d)%n%n",
                a.seconds(), a.rounds()));
        report.append("| configuration | kept-alive ops/s | vs no agent | new connection per request ops/s | vs no agent | TcpConnection events (churn, all rounds) | lost |\n|---|---|---|---|---|---|---|\n");
        double baseKeep = median(throughput.get("keepalive|no agent"));
        double baseChurn = median(throughput.get("churn|no agent"));
        for (String k : configs.keySet()) {
            double keep = median(throughput.get("keepalive|" + k));
            double churn = median(throughput.get("churn|" + k));
            long[] e = events.get("churn|" + k);
            long[] eKeep = events.get("keepalive|" + k);
            report.append(String.format(Locale.ROOT, "| %s | %,.0f | %.3f | %,.0f | %.3f | %s | %s |%n", k, keep, keep / baseKeep,
                    churn, churn / baseChurn, e == null ? "-" : String.format(Locale.ROOT, "%,d", e[0]),
                    e == null ? "-" : String.valueOf(e[2] + eKeep[2])));
        }
        report.append(String.format(Locale.ROOT, "%n## Host-wide tax: another process sending on a Unix socket pair (median of %d rounds)%n%n", a.rounds()));
        report.append("| while | ns per send+receive (best of 5x500k) | vs no JVM |\n|---|---|---|\n");
        double bare = median(tax.get("no JVM"));
        for (Map.Entry<String, List<Double>> t : tax.entrySet()) {
            double v = median(t.getValue());
            report.append(String.format(Locale.ROOT, "| %s | %.1f | %+.1f ns |%n", t.getKey(), v, v - bare));
        }
        report.append("\nall samples: throughput ").append(throughput).append("\n             tax ").append(tax).append('\n');
        Files.writeString(a.out().resolve("tcp.md"), report);
        System.out.println();
        System.out.println(report);
        System.out.println("written to " + a.out().resolve("tcp.md"));
    }

    private List<String> agentFlags(String agentOptions, Path recording) {
        return Measure.agentFlags(a.agentJar(), a.asyncProfiler(), agentOptions, recording);
    }

    /** ns per send+receive in another process while a JVM idles with these options. */
    private double taxWhileJvm(String agentOptions) throws Exception {
        Path recording = a.out().resolve("idle.jfr");
        try {
            return Measure.whileIdleJvm(java, agentFlags(agentOptions, recording), a.classes(), a.out(), () -> sendNs());
        } finally {
            Files.deleteIfExists(recording);
        }
    }

    private double sendNs() throws Exception {
        Process p = new ProcessBuilder(a.tool().toString(), "500000", "5").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("sendloop failed: " + output);
        }
        return Double.parseDouble(output.strip());
    }

    /** TcpConnection and TcpConnect events in a recording, and the losses its probes reported. */
    private static long[] tcpEvents(Path recording) throws IOException {
        long connections = 0;
        long connects = 0;
        long lost = 0;
        try (RecordingFile in = new RecordingFile(recording)) {
            while (in.hasMoreEvents()) {
                RecordedEvent e = in.readEvent();
                switch (e.getEventType().getName()) {
                    case EventNames.TCP_CONNECTION -> connections++;
                    case EventNames.TCP_CONNECT -> connects++;
                    case EventNames.PROBE_STATUS -> lost += e.getLong("lost");
                    default -> {
                    }
                }
            }
        }
        return new long[] {connections, connects, lost};
    }
}
