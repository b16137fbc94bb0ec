package io.jfrebpf.bench;

import static io.jfrebpf.bench.Measure.median;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * What the agent costs an application, against no agent and against async-profiler (CPU
 * sampling at 10 ms into JFR), every configuration in the same run, interleaved round by round:
 * an idle JVM ({@link IdleMain}: how much later {@code main} starts, how long after it returns
 * the process is gone, peak RSS, CPU time, the heap left after a full GC, when the probes were
 * attached), a service-like loop of fixed work ({@link ServiceLoop}: process CPU time and its
 * overhead, as a ratio to async-profiler's), and a recording of a million events
 * ({@link OpenStorm}: the time to finish it at exit). Our agent runs with its default probes
 * and {@code jfr=none}: the JVM's own recording is JFR's cost, not ours; the idle JVM starts
 * as a service does (probes attached while main runs), the other workloads with
 * {@code startup=wait} so that all of their work is traced. Process figures come
 * from GNU time (the kernel's accounting of the finished child), times of day from the child's
 * own prints. Prints a Markdown table and writes it to {@code out-dir/light.md}.
 *
 * <p>Usage: {@code LightBench agent.jar bench-classes libasyncProfiler.so out-dir [rounds]
 * [service-requests] [storm-opens]}.
 */
public final class LightBench {
    static final String NONE = "no agent";
    static final String OURS = "jfr-ebpf";
    static final String PEER = "async-profiler";
    static final List<String> CONFIGS = List.of(NONE, OURS, PEER);
    static final Path TIME = Path.of("/usr/bin/time");
    private static final Pattern TIME_LINE = Pattern.compile("(?m)^([0-9.]+) ([0-9.]+) ([0-9.]+) ([0-9]+)$");

    private final Path agentJar;
    private final Path classes;
    private final Path asyncProfiler;
    private final Path out;
    private final int rounds;
    private final int requests;
    private final int opens;
    private final Path javaBinary = Path.of(System.getProperty("java.home"), "bin", "java");

    /** One finished JVM: figures from its own output and from the kernel's accounting. */
    record Run(double startMs, double exitMs, double cpuMs, double rssMiB, String output, Path recording) {
        double number(String regex) throws IOException {
            return Measure.parse(output, regex);
        }
    }

    private LightBench(String[] args) {
        agentJar = Path.of(args[0]).toAbsolutePath();
        classes = Path.of(args[1]).toAbsolutePath();
        asyncProfiler = Path.of(args[2]).toAbsolutePath();
        out = Path.of(args[3]).toAbsolutePath();
        rounds = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        requests = args.length > 5 ? Integer.parseInt(args[5]) : 60_000;
        opens = args.length > 6 ? Integer.parseInt(args[6]) : 1_000_000;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: LightBench agent.jar bench-classes libasyncProfiler.so out-dir [rounds] [service-requests] [storm-opens]");
            System.exit(2);
        }
        if (!Files.isExecutable(TIME)) {
            System.err.println("bench: " + TIME + " (GNU time) is needed for the process figures: apt-get install time");
            System.exit(2);
        }
        new LightBench(args).run();
    }

    private void run() throws Exception {
        Files.createDirectories(out);
        Map<String, List<Run>> idle = new LinkedHashMap<>();
        Map<String, List<Run>> idleHeap = new LinkedHashMap<>();
        Map<String, List<Run>> service = new LinkedHashMap<>();
        Map<String, List<Run>> serviceHeap = new LinkedHashMap<>();
        for (String c : CONFIGS) {
            idle.put(c, new ArrayList<>());
            idleHeap.put(c, new ArrayList<>());
            service.put(c, new ArrayList<>());
            serviceHeap.put(c, new ArrayList<>());
        }
        log("warming up (one run of each, not counted)");
        for (String c : CONFIGS) {
            jvm(c, IdleMain.class, "1000");
        }
        for (int r = 1; r <= rounds; r++) {
            log("round %d of %d: idle JVM", r, rounds);
            for (String c : CONFIGS) {
                idle.get(c).add(jvm(c, IdleMain.class, "1000"));
            }
            for (String c : CONFIGS) {
                idleHeap.get(c).add(jvm(c, IdleMain.class, "1000", "heap"));
            }
            log("round %d of %d: service loop of %d requests", r, rounds, requests);
            for (String c : CONFIGS) {
                service.get(c).add(jvm(c, ServiceLoop.class, String.valueOf(requests), out.toString()));
            }
        }
        log("service loop with the heap measured after it (one run each)");
        for (String c : CONFIGS) {
            serviceHeap.get(c).add(jvm(c, ServiceLoop.class, String.valueOf(requests), out.toString(), "heap"));
        }
        log("a million file opens, traced (one run each without and with the agent)");
        Run stormNone = jvm(NONE, OpenStorm.class, String.valueOf(opens));
        Run stormOurs = jvm(OURS, OpenStorm.class, String.valueOf(opens));
        String table = table(idle, idleHeap, service, serviceHeap, stormNone, stormOurs);
        System.out.println(table);
        Files.writeString(out.resolve("light.md"), table);
        log("table written to %s", out.resolve("light.md"));
    }

    private String table(Map<String, List<Run>> idle, Map<String, List<Run>> idleHeap, Map<String, List<Run>> service,
            Map<String, List<Run>> serviceHeap, Run stormNone, Run stormOurs) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Medians of %d interleaved rounds (%s, %d CPUs); jfr-ebpf: default probes, jfr=none"
                + " (the service loop and the file opens also startup=wait); async-profiler: event=cpu,interval=10ms,jfr.%n%n", rounds, java.time.LocalDate.now().toString(),
                Runtime.getRuntime().availableProcessors()));
        b.append("| figure | no agent | jfr-ebpf | async-profiler | jfr-ebpf added | async-profiler added |\n");
        b.append("|---|---|---|---|---|---|\n");
        row(b, "idle JVM (sleeps 1 s): `main` starts after launch, ms", idle, Run::startMs, "%.0f");
        row(b, "idle JVM: process gone after `main` returns, ms", idle, Run::exitMs, "%.0f");
        row(b, "idle JVM: peak RSS, MiB", idle, Run::rssMiB, "%.0f");
        row(b, "idle JVM: CPU time (user + sys), ms", idle, Run::cpuMs, "%.0f");
        row(b, "idle JVM: heap in use after a full GC, MiB", heap(idleHeap), x -> x, "%.1f");
        List<Double> attached = new ArrayList<>();
        for (Run r : idle.get(OURS)) {
            attached.add(attachedAfterMs(r.recording()));
        }
        b.append(String.format(Locale.ROOT, "| idle JVM: all probes attached, ms after the JVM started | | %.0f | | | |%n",
                median(attached)));
        row(b, "service loop: CPU time (user + sys), ms", service, Run::cpuMs, "%.0f");
        List<Double> oursOverhead = new ArrayList<>();
        List<Double> peerOverhead = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            double none = service.get(NONE).get(i).cpuMs();
            oursOverhead.add(service.get(OURS).get(i).cpuMs() / none - 1);
            peerOverhead.add(service.get(PEER).get(i).cpuMs() / none - 1);
        }
        double ours = median(oursOverhead);
        double peer = median(peerOverhead);
        // a peer overhead at or below zero is the machine's noise, not a cost to divide by
        String ratio = peer > 0.005 ? String.format(Locale.ROOT, "%.2fx async-profiler's", ours / peer)
                : "no ratio: async-profiler's overhead was within the noise (rerun on a quieter machine)";
        b.append(String.format(Locale.ROOT, "| service loop: CPU overhead over no agent (per round) | | %+.1f%% | %+.1f%% | "
                + "%s | |%n", 100 * ours, 100 * peer, ratio));
        row(b, "service loop: peak RSS, MiB", service, Run::rssMiB, "%.0f");
        row(b, "service loop: heap in use after a full GC at its end, MiB", heap(serviceHeap), x -> x, "%.1f");
        long[] events = events(stormOurs.recording());
        b.append(String.format(Locale.ROOT, "| %,d file opens: process gone after `main` returns, ms | %.0f | %.0f | | %+.0f | |%n",
                opens, stormNone.exitMs(), stormOurs.exitMs(), stormOurs.exitMs() - stormNone.exitMs()));
        b.append(String.format(Locale.ROOT, "| %,d file opens: %s events written, lost | | %,d, %,d | | | |%n",
                opens, EventNames.FILE_OPEN, events[0], events[1]));
        return b.toString();
    }

    private static Map<String, List<Double>> heap(Map<String, List<Run>> runs) throws IOException {
        Map<String, List<Double>> mib = new LinkedHashMap<>();
        for (Map.Entry<String, List<Run>> e : runs.entrySet()) {
            List<Double> v = new ArrayList<>();
            for (Run r : e.getValue()) {
                v.add(r.number("heap (\\d+)") / (1 << 20));
            }
            mib.put(e.getKey(), v);
        }
        return mib;
    }

    private static <T> void row(StringBuilder b, String label, Map<String, List<T>> runs, java.util.function.ToDoubleFunction<T> f,
            String format) {
        double[] m = new double[CONFIGS.size()];
        for (int i = 0; i < m.length; i++) {
            List<Double> values = new ArrayList<>();
            for (T r : runs.get(CONFIGS.get(i))) {
                values.add(f.applyAsDouble(r));
            }
            m[i] = median(values);
        }
        String plus = format.replace("%", "%+");
        b.append(String.format(Locale.ROOT, "| %s | " + format + " | " + format + " | " + format + " | " + plus + " | " + plus + " |%n",
                label, m[0], m[1], m[2], m[1] - m[0], m[2] - m[0]));
    }

    /** The latest attachedAfter of our probes that attached: when the recording saw everything it was asked to. */
    private static double attachedAfterMs(Path recording) throws IOException {
        double latest = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
            if (e.getEventType().getName().equals(EventNames.PROBE_STATUS) && e.getBoolean("attached")) {
                latest = Math.max(latest, e.getLong("attachedAfter") / 1e6);
            }
        }
        return latest;
    }

    /** ebpf.FileOpen events in a recording, and the file probe's lost count. */
    private static long[] events(Path recording) throws IOException {
        long written = 0;
        long lost = 0;
        try (RecordingFile f = new RecordingFile(recording)) {
            while (f.hasMoreEvents()) {
                RecordedEvent e = f.readEvent();
                String type = e.getEventType().getName();
                if (type.equals(EventNames.FILE_OPEN)) {
                    written++;
                } else if (type.equals(EventNames.PROBE_STATUS) && e.getString("probe").equals("file")) {
                    lost = e.getLong("lost");
                }
            }
        }
        return new long[] {written, lost};
    }

    /**
     * Our options for a workload: the idle JVM as a service starts (main at once, the probes
     * attach meanwhile); the workloads that measure per-event costs wait for the probes, so that
     * all of their work is traced, as all of it is under async-profiler, which starts before main.
     */
    private static String ourOptions(Class<?> main) {
        return main == IdleMain.class ? "jfr=none" : "jfr=none,startup=wait";
    }

    /** Runs a JVM of a configuration to its end under GNU time; its figures. */
    private Run jvm(String config, Class<?> main, String... args) throws IOException, InterruptedException {
        Path recording = Files.createTempFile(out, config.replace(' ', '-'), ".jfr");
        Files.delete(recording);
        Path times = Files.createTempFile(out, "time", ".txt");
        Path log = Files.createTempFile(out, "jvm", ".log");
        List<String> cmd = new ArrayList<>(List.of(TIME.toString(), "-f", "%e %U %S %M", "-o", times.toString(),
                javaBinary.toString(), "--enable-native-access=ALL-UNNAMED"));
        switch (config) {
            case OURS -> cmd.add("-javaagent:" + agentJar + "=" + ourOptions(main) + ",file=" + recording);
            case PEER -> cmd.add("-agentpath:" + asyncProfiler + "=start,event=cpu,interval=10ms,jfr,file=" + recording);
            default -> { }
        }
        cmd.addAll(List.of("-cp", classes.toString(), main.getName()));
        cmd.addAll(List.of(args));
        try {
            long launched = System.currentTimeMillis();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException(config + ": " + main.getSimpleName() + " did not end in 10 minutes");
            }
            long reaped = System.currentTimeMillis();
            String output = Files.readString(log);
            if (p.exitValue() != 0) {
                throw new IOException(config + ": " + main.getSimpleName() + " failed (exit " + p.exitValue() + "):\n" + output);
            }
            Matcher t = TIME_LINE.matcher(Files.readString(times));
            if (!t.find()) {
                throw new IOException("no figures from " + TIME + ": " + Files.readString(times));
            }
            double cpuMs = (Double.parseDouble(t.group(2)) + Double.parseDouble(t.group(3))) * 1000;
            double rssMiB = Long.parseLong(t.group(4)) / 1024.0;
            double start = Measure.parse(output, "(?m)^main (\\d+)") - launched;
            double exit = reaped - Measure.parse(output, "(?m)^end (\\d+)");
            return new Run(start, exit, cpuMs, rssMiB, output, recording);
        } finally {
            Files.deleteIfExists(times);
            Files.deleteIfExists(log);
        }
    }

    static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "bench: " + format + "%n", args);
    }
}
