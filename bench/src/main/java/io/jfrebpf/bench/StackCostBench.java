package io.jfrebpf.bench;

import static io.jfrebpf.bench.Measure.log;
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
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * What a CPU sample's stack costs, in the kernel and in the agent: {@code probes=cpu} on
 * {@link DeepCpuWorkload} (CpuWorkload's mix on as many threads as CPUs, called from the
 * threads' run methods directly and from a recursion 64 deep), with and without
 * -XX:+PreserveFramePointer, and optionally a second agent jar (e.g. one built from an earlier
 * commit, with the frame-pointer walk) with the flag, interleaved round by round.
 * <p>
 * In the kernel: with {@code kernel.bpf_stats_enabled=1} the kernel counts each BPF program's
 * run time and runs; the bench reads them from {@code /proc/<pid>/fdinfo} of the JVM's program
 * fds (the perf_event program is the CPU probe's) every 100 ms while the JVM runs, and divides
 * the run time from the program's load to the last reading by the CPU samples in the recording
 * (ns per stack: the program's early returns on ticks that land on other processes are in it),
 * and by the program's runs (per run). In the
 * agent: its own count of the time spent symbolizing ({@code Symbolizer.Stats}, logged at the
 * end), per stack. Usage: {@code StackCostBench agent.jar bench-classes out-dir [rounds] [seconds]
 * [baseline-agent.jar baseline-label]}. Sets kernel.bpf_stats_enabled to 1 while it runs and
 * puts back what it was.
 */
public final class StackCostBench {
    static final Path STATS = Path.of("/proc/sys/kernel/bpf_stats_enabled");
    static final int DEEP = 64;
    /** BPF_PROG_TYPE_PERF_EVENT: only the CPU probe's program is of this type. */
    static final String PERF_EVENT = "7";
    static final int HZ = 99;

    private final Path agentJar;
    private final Path classes;
    private final Path out;
    private final int rounds;
    private final double seconds;
    private final Path baselineJar;
    private final String baselineLabel;
    private final int threads = Runtime.getRuntime().availableProcessors();
    private final Path java = Path.of(System.getProperty("java.home"), "bin", "java");

    private StackCostBench(String[] args) {
        agentJar = Path.of(args[0]).toAbsolutePath();
        classes = Path.of(args[1]).toAbsolutePath();
        out = Path.of(args[2]).toAbsolutePath();
        rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        seconds = args.length > 4 ? Double.parseDouble(args[4]) : 15;
        baselineJar = args.length > 5 ? Path.of(args[5]).toAbsolutePath() : null;
        baselineLabel = args.length > 6 ? args[6] : "baseline";
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: StackCostBench agent.jar bench-classes out-dir [rounds] [seconds] [baseline-agent.jar label]");
            System.exit(2);
        }
        new StackCostBench(args).run();
    }

    record Config(String name, Path jar, boolean framePointers, int depth) {
    }

    /** One run's figures. */
    record Run(double nsPerStack, double nsPerRun, long stacks, double framesPerStack, double reach, double symbolizeUsPerStack,
            double pollerCpuUsPerStack) {
    }

    /** A program's counters at one moment. */
    record Reading(long runTimeNs, long runCount) {
    }

    private void run() throws Exception {
        Files.createDirectories(out);
        List<Config> configs = new ArrayList<>();
        for (int depth : new int[] {0, DEEP}) {
            configs.add(new Config("HotSpot-aware walk, -XX:+PreserveFramePointer", agentJar, true, depth));
            configs.add(new Config("HotSpot-aware walk, without the flag", agentJar, false, depth));
            if (baselineJar != null) {
                configs.add(new Config(baselineLabel + ", -XX:+PreserveFramePointer", baselineJar, true, depth));
                configs.add(new Config(baselineLabel + ", without the flag", baselineJar, false, depth));
            }
        }
        String before = Files.readString(STATS).trim();
        Files.writeString(STATS, "1");
        Map<Config, List<Run>> runs = new LinkedHashMap<>();
        try {
            for (int round = 1; round <= rounds; round++) {
                for (Config c : configs) {
                    log("round %d/%d: %s, depth %d", round, rounds, c.name(), c.depth());
                    runs.computeIfAbsent(c, k -> new ArrayList<>()).add(measure(c));
                }
            }
        } finally {
            Files.writeString(STATS, before);
        }
        Files.writeString(out.resolve("stacks.md"), report(runs));
        System.out.println();
        System.out.println(Files.readString(out.resolve("stacks.md")));
        System.out.println("written to " + out.resolve("stacks.md"));
    }

    private Run measure(Config c) throws Exception {
        Path recording = out.resolve("stacks.jfr");
        Files.deleteIfExists(recording);
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                c.framePointers() ? "-XX:+PreserveFramePointer" : "-XX:-PreserveFramePointer",
                "-javaagent:" + c.jar() + "=probes=cpu,cpu.hz=" + HZ + ",jfr=none,startup=wait,file=" + recording,
                "-cp", classes.toString(), DeepCpuWorkload.class.getName(), String.valueOf(threads), String.valueOf(seconds),
                String.valueOf(c.depth())));
        Path logFile = Files.createTempFile(out, "jvm", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        Reading first = null;
        Reading last = null;
        try {
            while (p.isAlive()) {
                Reading r = read(p.pid());
                if (r != null) {
                    if (first == null) {
                        first = r;
                    }
                    last = r;
                }
                Thread.sleep(100);
            }
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IOException("benchmark JVM failed: " + cmd + "\n" + Files.readString(logFile));
            }
        } finally {
            p.destroyForcibly();
        }
        String output = Files.readString(logFile);
        Files.delete(logFile);
        if (first == null || last == null || last.runCount() == first.runCount()) {
            throw new IOException("no run of the CPU probe's program was counted (" + first + ", " + last + "):\n" + output);
        }
        long frames = 0;
        long reaching = 0;
        long all = 0;
        long stacks = 0;
        try (RecordingFile in = new RecordingFile(recording)) {
            while (in.hasMoreEvents()) {
                RecordedEvent e = in.readEvent();
                if (!e.getEventType().getName().equals(EventNames.CPU_SAMPLE)) {
                    continue;
                }
                all++;
                if (e.getThread() == null || e.getThread().getJavaName() == null || !e.getThread().getJavaName().startsWith("worker-")) {
                    continue;
                }
                stacks++;
                List<RecordedFrame> fs = e.getStackTrace() == null ? List.of() : e.getStackTrace().getFrames();
                frames += fs.size();
                if (fs.stream().anyMatch(f -> f.getMethod().getName().equals("run")
                        && f.getMethod().getType().getName().equals("java.lang.Thread"))) {
                    reaching++;
                }
            }
        }
        double runTime = last.runTimeNs() - first.runTimeNs();
        Matcher m = Pattern.compile("stacks: (\\d+) .*symbolization ([\\d.]+) ms, of which ([\\d.]+) ms loading").matcher(output);
        double symbolize = Double.NaN;
        double poller = Double.NaN;
        if (m.find() && Long.parseLong(m.group(1)) > 0) {
            long n = Long.parseLong(m.group(1));
            symbolize = (Double.parseDouble(m.group(2)) - Double.parseDouble(m.group(3))) * 1000 / n;
            Matcher cpu = Pattern.compile("agent's thread used (\\d+) ms CPU").matcher(output);
            if (cpu.find()) {
                poller = Double.parseDouble(cpu.group(1)) * 1000 / n;
            }
        }
        Run r = new Run(all == 0 ? Double.NaN : runTime / all, runTime / (last.runCount() - first.runCount()), stacks,
                stacks == 0 ? 0 : (double) frames / stacks, stacks == 0 ? 0 : (double) reaching / stacks, symbolize, poller);
        log("  %.0f ns per stack (%d stacks), %.0f ns per run, %.1f frames, %.1f%% reach Thread.run, symbolization %.1f us",
                r.nsPerStack(), all, r.nsPerRun(), r.framesPerStack(), 100 * r.reach(), r.symbolizeUsPerStack());
        return r;
    }

    /** The counters of the JVM's perf_event program (the CPU probe's), or null before it is loaded. */
    static Reading read(long pid) {
        long time = 0;
        long count = 0;
        java.util.Set<String> programs = new java.util.HashSet<>();
        try (var fds = Files.list(Path.of("/proc", String.valueOf(pid), "fdinfo"))) {
            for (Path fd : fds.toList()) {
                String info;
                try {
                    info = Files.readString(fd);
                } catch (IOException e) {
                    continue; // closed meanwhile
                }
                // a program's fd (a link's fdinfo names its program but has no counters), each program once
                if (PERF_EVENT.equals(field(info, "prog_type")) && field(info, "run_time_ns") != null
                        && programs.add(field(info, "prog_id"))) {
                    time += Long.parseLong(field(info, "run_time_ns"));
                    count += Long.parseLong(field(info, "run_cnt"));
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            return null; // the JVM is gone
        }
        return !programs.isEmpty() ? new Reading(time, count) : null;
    }

    static String field(String fdinfo, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + ":\\s*(\\S+)").matcher(fdinfo);
        return m.find() ? m.group(1) : null;
    }

    private String report(Map<Config, List<Run>> runs) {
        StringBuilder r = new StringBuilder();
        r.append(String.format(Locale.ROOT, "## Cost per stack: probes=cpu at %d Hz, DeepCpuWorkload on %d threads, %.0f s, median of %d"
                + " rounds%n%n", HZ, threads, seconds, rounds));
        r.append("| walk, JVM | depth | ns per stack in BPF (mean) | per run of the program | frames per stack | reach Thread.run"
                + " | symbolization per stack | poller CPU per stack |\n|---|---|---|---|---|---|---|---|\n");
        for (Map.Entry<Config, List<Run>> e : runs.entrySet()) {
            List<Run> v = e.getValue();
            r.append(String.format(Locale.ROOT, "| %s | %d | %,.0f ns | %,.0f ns | %.1f | %.1f%% | %.1f µs | %.1f µs |%n", e.getKey().name(),
                    e.getKey().depth(), median(v.stream().map(Run::nsPerStack).toList()), median(v.stream().map(Run::nsPerRun).toList()),
                    median(v.stream().map(Run::framesPerStack).toList()), 100 * median(v.stream().map(Run::reach).toList()),
                    median(v.stream().map(Run::symbolizeUsPerStack).toList()), median(v.stream().map(Run::pollerCpuUsPerStack).toList())));
        }
        r.append("\nns per stack, every run:\n");
        for (Map.Entry<Config, List<Run>> e : runs.entrySet()) {
            r.append(String.format(Locale.ROOT, "- %s, depth %d: %s%n", e.getKey().name(), e.getKey().depth(),
                    e.getValue().stream().map(x -> String.format(Locale.ROOT, "%.0f", x.nsPerStack())).toList()));
        }
        return r.toString();
    }
}
