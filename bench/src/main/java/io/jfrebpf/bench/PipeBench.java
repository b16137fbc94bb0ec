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
 * The benchmark of the pipe (syscall and file probes), every figure a ratio against a baseline
 * measured in the same run, configurations interleaved round by round to spread the noise of a
 * shared machine:
 * <ol>
 * <li>throughput of a syscall-heavy loop (small file reads) with no agent, with the default
 * probes, and with {@code probes=syscall+file}; events drained per second and losses;</li>
 * <li>the host-wide tax: ns per {@code getppid()} in another process, and ns per pipe round trip
 * between two other processes (two context switches: what the off-CPU probe's sched_switch
 * program costs others), while our JVM runs with no agent, with the default probes, and with
 * the syscall probe.</li>
 * </ol>
 * The peer, async-profiler (CPU profiling at 100 Hz into a JFR file: its usual production setting),
 * runs the same loop when its library is given.
 * Usage: {@code PipeBench agent.jar bench-classes getppid_loop out-dir [rounds] [seconds] [libasyncProfiler.so]}.
 */
public final class PipeBench {
    private final Path pingpong;
    /** Marks the async-profiler configuration among agent option strings. */
    static final String PEER = Measure.PEER;
    private final BenchArgs a;
    private final Path java = Path.of(System.getProperty("java.home"), "bin", "java");

    private PipeBench(String[] args) {
        a = BenchArgs.parse(args, "PipeBench agent.jar bench-classes getppid_loop out-dir [rounds] [seconds] [libasyncProfiler.so]");
        pingpong = a.tool().resolveSibling("pingpong");
    }

    public static void main(String[] args) throws Exception {
        new PipeBench(args).run();
    }

    private void run() throws Exception {
        Files.createDirectories(a.out());
        Map<String, String> configs = new LinkedHashMap<>();
        configs.put("no agent", null);
        configs.put("default probes", "");
        configs.put("probes=syscall+file", "probes=syscall+file");
        if (a.asyncProfiler() != null) {
            configs.put("async-profiler 4.2 (cpu, 10 ms, jfr)", PEER);
        }

        Map<String, List<Double>> throughput = new LinkedHashMap<>();
        Map<String, List<Double>> drained = new LinkedHashMap<>();
        Map<String, Long> lost = new LinkedHashMap<>();
        Map<String, List<Double>> tax = new LinkedHashMap<>();
        Map<String, List<Double>> switchTax = new LinkedHashMap<>();
        tax.put("no JVM", new ArrayList<>());
        switchTax.put("no JVM", new ArrayList<>());
        configs.keySet().forEach(k -> tax.put(k, new ArrayList<>()));
        configs.keySet().forEach(k -> switchTax.put(k, new ArrayList<>()));

        for (int round = 1; round <= a.rounds(); round++) {
            for (Map.Entry<String, String> c : configs.entrySet()) {
                log("round %d/%d: file-read loop, %s", round, a.rounds(), c.getKey());
                Path recording = a.out().resolve("loop-" + round + ".jfr");
                Files.deleteIfExists(recording);
                String output = runJvm(c.getValue(), recording, String.valueOf(a.seconds()));
                throughput.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(parse(output, "ops/s=(\\d+)"));
                if (c.getValue() != null && !c.getValue().equals(PEER)) {
                    long[] fileEvents = fileEvents(recording);
                    drained.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(fileEvents[0] / (a.seconds() + 1.0));
                    lost.merge(c.getKey(), fileEvents[1], Long::sum);
                    Files.deleteIfExists(recording);
                }
            }
            log("round %d/%d: host tax, no JVM", round, a.rounds());
            tax.get("no JVM").add(getppidNs());
            switchTax.get("no JVM").add(pingpongNs());
            for (Map.Entry<String, String> c : configs.entrySet()) {
                log("round %d/%d: host tax, JVM with %s", round, a.rounds(), c.getKey());
                double[] t = taxWhileJvm(c.getValue());
                tax.get(c.getKey()).add(t[0]);
                switchTax.get(c.getKey()).add(t[1]);
            }
        }

        StringBuilder report = new StringBuilder();
        report.append(String.format(Locale.ROOT, "## Syscall-heavy loop (open+read+close of a small file, 1 thread, %.0f s, median of %d)%n%n",
                a.seconds(), a.rounds()));
        report.append("| configuration | ops/s | vs no agent | file events/s drained | lost |\n|---|---|---|---|---|\n");
        double base = median(throughput.get("no agent"));
        for (String k : configs.keySet()) {
            double v = median(throughput.get(k));
            report.append(String.format(Locale.ROOT, "| %s | %,.0f | %.3f | %s | %s |%n", k, v, v / base,
                    drained.containsKey(k) ? String.format(Locale.ROOT, "%,.0f", median(drained.get(k))) : "-",
                    lost.containsKey(k) ? String.valueOf(lost.get(k)) : "-"));
        }
        report.append(String.format(Locale.ROOT, "%n## Host-wide tax on other processes (median of %d rounds)%n%n", a.rounds()));
        report.append("| while | ns per getppid() (best of 5x2M) | vs no JVM | ns per pipe round trip, 2 context switches (best of 5x100k) | vs no JVM |\n|---|---|---|---|---|\n");
        double bare = median(tax.get("no JVM"));
        double bareSwitch = median(switchTax.get("no JVM"));
        for (Map.Entry<String, List<Double>> e : tax.entrySet()) {
            double v = median(e.getValue());
            double sw = median(switchTax.get(e.getKey()));
            report.append(String.format(Locale.ROOT, "| %s | %.1f | %+.1f ns | %.0f | %+.0f ns |%n", e.getKey(), v, v - bare, sw,
                    sw - bareSwitch));
        }
        report.append("\nall samples: throughput ").append(throughput).append("\n             tax ").append(tax)
                .append("\n             switch tax ").append(switchTax).append('\n');
        Files.writeString(a.out().resolve("pipe.md"), report);
        System.out.println();
        System.out.println(report);
        System.out.println("written to " + a.out().resolve("pipe.md"));
    }

    private String runJvm(String agentOptions, Path recording, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(agentFlags(agentOptions, recording));
        cmd.addAll(List.of("-cp", a.classes().toString(), FileReadLoop.class.getName()));
        cmd.addAll(List.of(args));
        return Measure.run(cmd, a.out());
    }

    private List<String> agentFlags(String agentOptions, Path recording) {
        return Measure.agentFlags(a.agentJar(), a.asyncProfiler(), agentOptions, recording);
    }

    /** ns per getppid() and per pipe round trip in other processes while a JVM runs with these options. */
    private double[] taxWhileJvm(String agentOptions) throws Exception {
        Path recording = a.out().resolve("idle.jfr");
        try {
            return Measure.whileIdleJvm(java, agentFlags(agentOptions, recording), a.classes(), a.out(), () -> new double[] {getppidNs(), pingpongNs()});
        } finally {
            Files.deleteIfExists(recording);
        }
    }

    private double pingpongNs() throws Exception {
        Process p = new ProcessBuilder(pingpong.toString(), "100000", "5").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("pingpong failed: " + output);
        }
        return Double.parseDouble(output.strip());
    }

    private double getppidNs() throws Exception {
        Process p = new ProcessBuilder(a.tool().toString(), "2000000", "5").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("getppid loop failed: " + output);
        }
        return Double.parseDouble(output.strip());
    }

    /** ebpf.FileOpen events in the recording, and the losses its probes reported. */
    private static long[] fileEvents(Path recording) throws IOException {
        long events = 0;
        long lost = 0;
        try (RecordingFile in = new RecordingFile(recording)) {
            while (in.hasMoreEvents()) {
                RecordedEvent e = in.readEvent();
                switch (e.getEventType().getName()) {
                    case EventNames.FILE_OPEN -> events++;
                    case EventNames.PROBE_STATUS -> lost += e.getLong("lost");
                    default -> { }
                }
            }
        }
        return new long[] {events, lost};
    }
}
