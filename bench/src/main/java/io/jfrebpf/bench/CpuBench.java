package io.jfrebpf.bench;

import static io.jfrebpf.bench.Measure.log;
import static io.jfrebpf.bench.Measure.median;
import static io.jfrebpf.bench.Measure.parse;

import io.jfrebpf.events.read.EventNames;
import io.jfrebpf.events.read.FrameTypes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * The CPU profiler benchmark, every configuration in the same run, interleaved round by round:
 * throughput of {@link CpuWorkload} (as many threads as CPUs) with no profiler, with
 * {@code probes=cpu} at 99 Hz, and with async-profiler's cpu mode at the same rate (both into a
 * JFR file); the hottest Java methods (innermost Java frame of each sample) of both, side by
 * side; the share of frames resolved to a Java method; and our symbolization cost per sample.
 * Usage: {@code CpuBench agent.jar bench-classes libasyncProfiler.so out-dir [rounds] [seconds]}.
 */
public final class CpuBench {
    static final Set<String> JAVA_TYPES = Set.of(FrameTypes.INTERPRETED, FrameTypes.JIT_COMPILED, FrameTypes.INLINED, FrameTypes.C1_COMPILED, "C2 compiled");
    private final Path agentJar;
    private final Path classes;
    private final Path asyncProfiler;
    private final Path out;
    private final int rounds;
    private final double seconds;
    private final int threads = Runtime.getRuntime().availableProcessors();
    private final Path java = Path.of(System.getProperty("java.home"), "bin", "java");

    private CpuBench(String[] args) {
        agentJar = Path.of(args[0]).toAbsolutePath();
        classes = Path.of(args[1]).toAbsolutePath();
        asyncProfiler = Path.of(args[2]).toAbsolutePath();
        out = Path.of(args[3]).toAbsolutePath();
        rounds = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        seconds = args.length > 5 ? Double.parseDouble(args[5]) : 10;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: CpuBench agent.jar bench-classes libasyncProfiler.so out-dir [rounds] [seconds]");
            System.exit(2);
        }
        new CpuBench(args).run();
    }

    /** What one profiled run saw. */
    private static final class Profile {
        final Map<String, Long> hottest = new HashMap<>();
        long samples;
        long samplesWithJava;
        long userFrames;
        long javaFrames;
        long aboveEntry;
        long javaAboveEntry;
        long interpreted;
        long inlined;

        void add(List<RecordedFrame> frames) {
            samples++;
            String top = null;
            boolean belowEntry = false;
            for (RecordedFrame f : frames) {
                if (FrameTypes.KERNEL.equals(f.getType())) {
                    continue;
                }
                // the thread's start-up frames under the Java entry (call_stub, JavaCalls, thread_native_entry)
                belowEntry |= f.getMethod().getName().equals("call_stub");
                if (!belowEntry) {
                    aboveEntry++;
                    javaAboveEntry += JAVA_TYPES.contains(f.getType()) ? 1 : 0;
                }
                userFrames++;
                if (JAVA_TYPES.contains(f.getType())) {
                    javaFrames++;
                    interpreted += FrameTypes.INTERPRETED.equals(f.getType()) ? 1 : 0;
                    inlined += FrameTypes.INLINED.equals(f.getType()) ? 1 : 0;
                    if (top == null) {
                        top = f.getMethod().getType().getName() + "." + f.getMethod().getName();
                    }
                }
            }
            if (top != null) {
                samplesWithJava++;
                hottest.merge(top, 1L, Long::sum);
            }
        }

        void merge(Profile p) {
            p.hottest.forEach((k, v) -> hottest.merge(k, v, Long::sum));
            samples += p.samples;
            samplesWithJava += p.samplesWithJava;
            userFrames += p.userFrames;
            javaFrames += p.javaFrames;
            aboveEntry += p.aboveEntry;
            javaAboveEntry += p.javaAboveEntry;
            interpreted += p.interpreted;
            inlined += p.inlined;
        }

        List<Map.Entry<String, Long>> top(int n) {
            return hottest.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(n).toList();
        }
    }

    private void run() throws Exception {
        Files.createDirectories(out);
        Map<String, List<String>> configs = new LinkedHashMap<>();
        configs.put("no profiler, without PreserveFramePointer", List.of());
        configs.put("no profiler", List.of("-XX:+PreserveFramePointer"));
        configs.put("jfr-ebpf probes=cpu, 99 Hz", List.of("-XX:+PreserveFramePointer", "-javaagent:" + agentJar
                + "=probes=cpu,cpu.hz=99,jfr=none,file=" + out.resolve("ours.jfr")));
        configs.put("async-profiler 4.2 cpu, 99 Hz", List.of("-XX:+PreserveFramePointer", "-agentpath:" + asyncProfiler
                + "=start,event=cpu,interval=10101010,jfr,file=" + out.resolve("peer.jfr")));
        Map<String, List<Double>> throughput = new LinkedHashMap<>();
        Map<String, List<Double>> steady = new LinkedHashMap<>();
        Profile ours = new Profile();
        Profile peer = new Profile();
        List<Double> symbolizationUs = new ArrayList<>();
        List<Double> pollerCpuUs = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (Map.Entry<String, List<String>> c : configs.entrySet()) {
                log("round %d/%d: %s", round, rounds, c.getKey());
                Files.deleteIfExists(out.resolve("ours.jfr"));
                Files.deleteIfExists(out.resolve("peer.jfr"));
                String output = runJvm(c.getValue());
                throughput.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(parse(output, "(?m)^ops/s=(\\d+)"));
                steady.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(parse(output, "steady-ops/s=(\\d+)"));
                if (c.getKey().startsWith("jfr-ebpf")) {
                    ours.merge(read(out.resolve("ours.jfr"), EventNames.CPU_SAMPLE));
                    Matcher m = Pattern.compile("stacks: (\\d+) .*symbolization ([\\d.]+) ms, of which ([\\d.]+) ms loading").matcher(output);
                    if (m.find() && Long.parseLong(m.group(1)) > 0) {
                        long stacks = Long.parseLong(m.group(1));
                        symbolizationUs.add((Double.parseDouble(m.group(2)) - Double.parseDouble(m.group(3))) * 1000 / stacks);
                        Matcher cpu = Pattern.compile("agent's thread used (\\d+) ms CPU").matcher(output);
                        if (cpu.find()) {
                            pollerCpuUs.add(Double.parseDouble(cpu.group(1)) * 1000 / stacks);
                        }
                    }
                } else if (c.getKey().startsWith("async-profiler")) {
                    peer.merge(read(out.resolve("peer.jfr"), "jdk.ExecutionSample"));
                }
            }
        }
        Files.writeString(out.resolve("cpu.md"), report(configs.keySet(), throughput, steady, ours, peer, symbolizationUs, pollerCpuUs));
        System.out.println();
        System.out.println(Files.readString(out.resolve("cpu.md")));
        System.out.println("written to " + out.resolve("cpu.md"));
    }

    private String report(Set<String> configs, Map<String, List<Double>> throughput, Map<String, List<Double>> steady,
            Profile ours, Profile peer,
            List<Double> symbolizationUs, List<Double> pollerCpuUs) {
        StringBuilder r = new StringBuilder();
        r.append(String.format(Locale.ROOT, "## CPU profiling: CpuWorkload, %d threads on %d CPUs, %.0f s, median of %d rounds%n%n",
                threads, Runtime.getRuntime().availableProcessors(), seconds, rounds));
        r.append("| configuration | steady ops/s (last 2/3) | vs no profiler | whole run ops/s | vs no profiler |\n|---|---|---|---|---|\n");
        double base = median(throughput.get("no profiler"));
        double steadyBase = median(steady.get("no profiler"));
        for (String k : configs) {
            double v = median(throughput.get(k));
            double sv = median(steady.get(k));
            r.append(String.format(Locale.ROOT, "| %s | %,.0f | %.3f | %,.0f | %.3f |%n", k, sv, sv / steadyBase, v, v / base));
        }
        r.append(String.format(Locale.ROOT, "%n## Hottest Java methods (innermost Java frame), all rounds%n%n"));
        r.append("| # | jfr-ebpf | share | async-profiler | share |\n|---|---|---|---|---|\n");
        List<Map.Entry<String, Long>> a = ours.top(10);
        List<Map.Entry<String, Long>> b = peer.top(10);
        for (int i = 0; i < 10; i++) {
            r.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s |%n", i + 1, i < a.size() ? a.get(i).getKey() : "",
                    i < a.size() ? pct(a.get(i).getValue(), ours.samplesWithJava) : "", i < b.size() ? b.get(i).getKey() : "",
                    i < b.size() ? pct(b.get(i).getValue(), peer.samplesWithJava) : ""));
        }
        Set<String> ta = a.stream().map(Map.Entry::getKey).collect(Collectors.toSet());
        long common = b.stream().filter(e -> ta.contains(e.getKey())).count();
        r.append(String.format(Locale.ROOT, "%nTop-10 agreement: %d of 10 methods in both lists.%n%n", common));
        r.append("| | jfr-ebpf | async-profiler |\n|---|---|---|\n");
        r.append(String.format(Locale.ROOT, "| samples on the worker threads | %,d | %,d |%n", ours.samples, peer.samples));
        r.append(String.format(Locale.ROOT, "| samples with a Java frame | %s | %s |%n", pct(ours.samplesWithJava, ours.samples),
                pct(peer.samplesWithJava, peer.samples)));
        r.append(String.format(Locale.ROOT, "| user frames resolved to a Java method | %s | %s |%n", pct(ours.javaFrames, ours.userFrames),
                pct(peer.javaFrames, peer.userFrames)));
        r.append(String.format(Locale.ROOT, "| user frames above the Java entry (call_stub) resolved to a Java method | %s | %s |%n",
                pct(ours.javaAboveEntry, ours.aboveEntry), pct(peer.javaAboveEntry, peer.aboveEntry)));
        r.append(String.format(Locale.ROOT, "| of which interpreted / inlined | %s / %s | %s / %s |%n", pct(ours.interpreted, ours.javaFrames),
                pct(ours.inlined, ours.javaFrames), pct(peer.interpreted, peer.javaFrames), pct(peer.inlined, peer.javaFrames)));
        r.append(String.format(Locale.ROOT, "%nSymbolization cost per sample on the agent's poller thread (its own count, every stack incl. cache hits, without the one-time wait for kallsyms/ELF tables), median: %.1f us; runs: %s%n",
                symbolizationUs.isEmpty() ? Double.NaN : median(symbolizationUs), symbolizationUs.stream()
                        .map(v -> String.format(Locale.ROOT, "%.1f", v)).toList()));
        r.append(String.format(Locale.ROOT, "CPU time of the agent's poller thread (decode, thread lookup, symbolization; whole run incl. start-up) per sample, median: %.1f us; runs: %s%n",
                pollerCpuUs.isEmpty() ? Double.NaN : median(pollerCpuUs), pollerCpuUs.stream()
                        .map(v -> String.format(Locale.ROOT, "%.1f", v)).toList()));
        r.append("\nall throughput samples: ").append(throughput).append("\nsteady: ").append(steady).append('\n');
        return r.toString();
    }

    private static String pct(long part, long whole) {
        return whole == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
    }

    /** The samples of the worker threads in a recording. */
    private static Profile read(Path recording, String type) throws IOException {
        Profile p = new Profile();
        try (RecordingFile in = new RecordingFile(recording)) {
            while (in.hasMoreEvents()) {
                RecordedEvent e = in.readEvent();
                if (!e.getEventType().getName().equals(type)) {
                    continue;
                }
                // JFR's and async-profiler's execution samples name the thread sampledThread
                var thread = e.hasField("sampledThread") ? e.getThread("sampledThread") : e.getThread();
                if (thread != null && thread.getJavaName() != null && thread.getJavaName().startsWith("worker-")
                        && e.getStackTrace() != null) {
                    p.add(e.getStackTrace().getFrames());
                }
            }
        }
        return p;
    }

    private String runJvm(List<String> flags) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", classes.toString(), CpuWorkload.class.getName(), String.valueOf(threads), String.valueOf(seconds)));
        return Measure.run(cmd, out);
    }
}
