package io.jfrebpf.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * The soak benchmark: a JVM opening files at a steady high rate for a long time under the agent
 * (default probes plus syscall statistics). Every 10 s it samples the process from outside —
 * resident memory, open file descriptors, memory mappings, threads — and at the end reads the
 * JVM's own recording for the heap after each GC. Bounded means: no trend from the first
 * minutes to the last. With {@code tcp} as the workload it runs {@link TcpWorkload}'s
 * new-connection-per-request loop as fast as it goes under the default probes instead; with
 * {@code malloc}, {@link MallocWorkload}'s malloc+free loop (4 KiB blocks) under probes=malloc
 * sampling one block in four.
 * Usage: {@code Soak agent.jar bench-classes out-dir [minutes] [opens/s] [files|tcp|malloc]}.
 */
public final class Soak {
    private Soak() {
    }

    record Sample(double minute, long rssKb, long fds, long maps, long threads) {
    }

    public static void main(String[] args) throws Exception {
        Path agentJar = Path.of(args[0]).toAbsolutePath();
        Path classes = Path.of(args[1]).toAbsolutePath();
        Path out = Files.createDirectories(Path.of(args[2]).toAbsolutePath());
        double minutes = args.length > 3 ? Double.parseDouble(args[3]) : 10;
        int rate = args.length > 4 ? Integer.parseInt(args[4]) : 20_000;
        Path recording = out.resolve("soak.jfr");
        Files.deleteIfExists(recording);
        Path log = out.resolve("soak.log");
        String mode = args.length > 5 ? args[5] : "files";
        boolean tcp = mode.equals("tcp");
        boolean malloc = mode.equals("malloc");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = malloc
                ? List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-XX:+PreserveFramePointer",
                        "-javaagent:" + agentJar + "=file=" + recording + ",probes=malloc,malloc.interval=16k",
                        "-cp", classes.toString(), MallocWorkload.class.getName(), String.valueOf(minutes * 60), "4096")
                : tcp
                ? List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-XX:+PreserveFramePointer",
                        "-javaagent:" + agentJar + "=file=" + recording,
                        "-cp", classes.toString(), TcpWorkload.class.getName(), "churn", String.valueOf(minutes * 60))
                : List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                        "-javaagent:" + agentJar + "=file=" + recording + ",probes=file+syscall,syscall.threshold=10ms",
                        "-cp", classes.toString(), FileReadLoop.class.getName(), "paced", String.valueOf(minutes * 60), String.valueOf(rate));
        String what = malloc ? "malloc+free of 4 KiB blocks as fast as it goes, probes=malloc sampling one in four (malloc.interval=16k)"
                : tcp ? "a new loopback connection per request, as fast as it goes, default probes"
                : String.format(Locale.ROOT, "%,d file opens/s from 4 threads, probes=file+syscall", rate);
        System.out.printf(Locale.ROOT, "soak: %.1f min, %s; sampling every 10 s%n", minutes, what);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long started = System.nanoTime();
        List<Sample> samples = new ArrayList<>();
        while (p.isAlive()) {
            p.waitFor(10, TimeUnit.SECONDS);
            if (!p.isAlive()) {
                break;
            }
            Sample s = sample(p.pid(), (System.nanoTime() - started) / 60e9);
            if (s != null) {
                samples.add(s);
                System.out.printf(Locale.ROOT, "soak: %5.1f min  rss %,8d kB  fds %4d  maps %5d  threads %3d%n",
                        s.minute(), s.rssKb(), s.fds(), s.maps(), s.threads());
            }
        }
        if (p.exitValue() != 0) {
            throw new IOException("soak JVM failed:\n" + Files.readString(log));
        }
        StringBuilder report = new StringBuilder();
        report.append(String.format(Locale.ROOT, "## Soak: %.1f min, %s%n%n", minutes, what));
        report.append("| minute | RSS kB | open fds | mappings | threads |\n|---|---|---|---|---|\n");
        int step = Math.max(1, samples.size() / 10);
        for (int i = 0; i < samples.size(); i += step) {
            row(report, samples.get(i));
        }
        row(report, samples.get(samples.size() - 1));
        report.append('\n').append(heapAfterGc(recording, minutes)).append('\n');
        report.append("agent's last line: ").append(Files.readAllLines(log).stream().filter(l -> l.contains("recording written"))
                .findFirst().orElse("(none)")).append('\n');
        report.append(String.format(Locale.ROOT, "recording: %,d bytes%n", Files.size(recording)));
        if (tcp || malloc) {
            report.append(Files.readAllLines(log).stream().filter(l -> l.startsWith("ops/s=") || l.startsWith("ns/pair="))
                    .findFirst().orElse("")).append('\n');
        }
        Files.writeString(out.resolve(tcp ? "soak-tcp.md" : malloc ? "soak-malloc.md" : "soak.md"), report);
        System.out.println();
        System.out.println(report);
        Files.delete(recording);
    }

    private static void row(StringBuilder report, Sample s) {
        report.append(String.format(Locale.ROOT, "| %.1f | %,d | %d | %d | %d |%n", s.minute(), s.rssKb(), s.fds(), s.maps(), s.threads()));
    }

    private static Sample sample(long pid, double minute) {
        try {
            Path proc = Path.of("/proc", String.valueOf(pid));
            long rss = 0;
            long threads = 0;
            for (String line : Files.readAllLines(proc.resolve("status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("\\D", ""));
                } else if (line.startsWith("Threads:")) {
                    threads = Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
            long fds;
            try (Stream<Path> s = Files.list(proc.resolve("fd"))) {
                fds = s.count();
            }
            long maps = Files.readAllLines(proc.resolve("maps")).size();
            return new Sample(minute, rss, fds, maps, threads);
        } catch (IOException | RuntimeException e) {
            return null; // the process ended between two reads
        }
    }

    /** The JVM heap after each GC, from the JVM's own recording: first minute vs last minute. */
    private static String heapAfterGc(Path recording, double minutes) throws IOException {
        List<long[]> points = new ArrayList<>();
        long start = Long.MAX_VALUE;
        try (RecordingFile f = new RecordingFile(recording)) {
            while (f.hasMoreEvents()) {
                RecordedEvent e = f.readEvent();
                if (e.getEventType().getName().equals("jdk.GCHeapSummary") && "After GC".equals(e.getString("when"))) {
                    long t = e.getStartTime().toEpochMilli();
                    start = Math.min(start, t);
                    points.add(new long[] {t, e.getLong("heapUsed")});
                }
            }
        }
        if (points.isEmpty()) {
            return "heap after GC: no jdk.GCHeapSummary in the recording";
        }
        long first = start;
        long lastStart = first + (long) ((minutes - 1) * 60_000);
        double early = points.stream().filter(x -> x[0] < first + 60_000).mapToLong(x -> x[1]).average().orElse(0);
        double late = points.stream().filter(x -> x[0] >= lastStart).mapToLong(x -> x[1]).average().orElse(0);
        long max = points.stream().mapToLong(x -> x[1]).max().orElse(0);
        return String.format(Locale.ROOT, "heap after GC (%d GCs): first minute %.1f MB on average, last minute %.1f MB, max %.1f MB",
                points.size(), early / 1e6, late / 1e6, max / 1e6);
    }
}
