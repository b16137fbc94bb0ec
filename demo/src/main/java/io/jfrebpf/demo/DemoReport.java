package io.jfrebpf.demo;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;
import one.convert.Arguments;
import one.convert.FlameGraph;

/**
 * What the demo prints after its run: a short summary of the recording (events by type, probe
 * status, hottest and most blocked Java methods, file opens, syscalls) and a CPU flame graph of
 * the kernel's CPU samples with their mixed Java/native/kernel stacks (the JVM's own execution
 * samples when there are none), rendered with async-profiler's converter.
 * Usage: {@code DemoReport recording.jfr flame.html}.
 */
public final class DemoReport {
    private final Map<String, Long> counts = new TreeMap<>();
    private final List<RecordedEvent> probeStatus = new ArrayList<>();
    private final Map<String, Long> opensByThread = new HashMap<>();
    private final Map<String, Long> openErrors = new TreeMap<>();
    private final Map<String, long[]> syscalls = new HashMap<>();
    private final List<RecordedEvent> slowSyscalls = new ArrayList<>();
    private final Map<String, Long> collapsed = new HashMap<>();
    private final Map<String, Long> jvmCollapsed = new HashMap<>();
    private final Map<String, Long> hottest = new HashMap<>();
    private final Map<String, Long> blockedNanos = new HashMap<>();
    private final Map<String, long[]> connections = new TreeMap<>(); // direction -> count, sent, received, retransmits
    private final Map<String, Long> openedAt = new HashMap<>();
    private final Map<String, Long> connectErrors = new TreeMap<>();
    private final List<Long> connectNanos = new ArrayList<>();
    private long retransmitEvents;
    /** statement -> server durations (ns); statement -> call site -> count */
    private final Map<String, List<Long>> queryNanos = new HashMap<>();
    private final Map<String, Map<String, Long>> querySites = new HashMap<>();
    private final Map<String, Long> queryLockWait = new HashMap<>();
    private long failedQueries;
    private RecordedEvent container;
    private long cpuSamples;
    private long opens;
    private long storeOpens;

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: DemoReport recording.jfr flame.html");
            System.exit(2);
        }
        DemoReport report = new DemoReport();
        report.read(Path.of(args[0]));
        report.print(Path.of(args[0]));
        report.writeFlameGraph(Path.of(args[1]));
        System.out.println("flame graph (CPU samples with mixed stacks): " + Path.of(args[1]).toAbsolutePath());
    }

    void read(Path file) throws IOException {
        try (RecordingFile in = new RecordingFile(file)) {
            while (in.hasMoreEvents()) {
                RecordedEvent e = in.readEvent();
                String type = e.getEventType().getName();
                counts.merge(type, 1L, Long::sum);
                switch (type) {
                    case "ebpf.ProbeStatus" -> probeStatus.add(e);
                    case "ebpf.FileOpen" -> fileOpen(e);
                    case "ebpf.SyscallStatistics" -> {
                        long[] s = syscalls.computeIfAbsent(e.getString("syscall"), k -> new long[4]);
                        s[0] += e.getLong("count");
                        s[1] += e.getLong("errors");
                        s[2] += e.getLong("totalTime");
                        s[3] = Math.max(s[3], e.getLong("maxTime"));
                    }
                    case "ebpf.SyscallLatency" -> slowSyscalls.add(e);
                    case "ebpf.CPUSample" -> {
                        cpuSamples++;
                        sample(e.getStackTrace(), collapsed);
                        hottest.merge(innermostJava(e.getStackTrace()), 1L, Long::sum);
                    }
                    case "ebpf.OffCPU" -> blockedNanos.merge(innermostJava(e.getStackTrace()), e.getDuration().toNanos(), Long::sum);
                    case "jdk.ExecutionSample" -> sample(e.getStackTrace(), jvmCollapsed);
                    case "ebpf.TcpConnection" -> {
                        long[] c = connections.computeIfAbsent(e.getString("direction"), k -> new long[4]);
                        c[0]++;
                        c[1] += e.getLong("bytesSent");
                        c[2] += e.getLong("bytesReceived");
                        c[3] += e.getLong("retransmits");
                        openedAt.merge(e.getString("direction") + " at " + callSite(e.getStackTrace()), 1L, Long::sum);
                    }
                    case "ebpf.TcpConnect" -> {
                        String error = e.getString("error");
                        if (error == null) {
                            connectNanos.add(e.getDuration().toNanos());
                        } else {
                            connectErrors.merge(error, 1L, Long::sum);
                        }
                    }
                    case "ebpf.TcpRetransmit" -> retransmitEvents++;
                    case "ebpf.PostgresQuery" -> {
                        String q = e.getString("query");
                        queryNanos.computeIfAbsent(q, k -> new ArrayList<>()).add(e.getDuration().toNanos());
                        querySites.computeIfAbsent(q, k -> new HashMap<>())
                                .merge(callSite(e.getStackTrace(), "java.", "sun.", "jdk.", "com.sun.", "org.postgresql."), 1L, Long::sum);
                        queryLockWait.merge(q, e.getDuration("lockWait").toNanos(), Long::sum);
                        if (e.getBoolean("failed")) {
                            failedQueries++;
                        }
                    }
                    case "ebpf.ContainerInfo" -> container = e;
                    default -> { }
                }
            }
        }
    }

    private void fileOpen(RecordedEvent e) {
        opens++;
        String path = e.getString("path");
        if (path != null && path.contains("jfr-ebpf-demo-store")) {
            storeOpens++;
        }
        RecordedThread t = e.getThread();
        String thread = t == null ? "?" : t.getJavaName() != null ? t.getJavaName() : t.getOSName() + " (native)";
        opensByThread.merge(thread, 1L, Long::sum);
        String error = e.getString("error");
        if (error != null) {
            openErrors.merge(error, 1L, Long::sum);
        }
    }

    /** The innermost Java method of a stack: where the time goes in the application's terms. */
    private static String innermostJava(RecordedStackTrace stack) {
        if (stack != null) {
            for (RecordedFrame f : stack.getFrames()) {
                if (JAVA.contains(f.getType())) {
                    return f.getMethod().getType().getName() + "." + f.getMethod().getName();
                }
            }
        }
        return "(no Java frame: JVM or native thread)";
    }

    private static final java.util.Set<String> JAVA = java.util.Set.of("Interpreted", "JIT compiled", "Inlined");

    /** The innermost Java frame outside the JDK: the application code behind a JDK call. */
    private static String callSite(RecordedStackTrace stack) {
        return callSite(stack, "java.", "sun.", "jdk.", "com.sun.");
    }

    /** The innermost Java frame outside these packages. */
    private static String callSite(RecordedStackTrace stack, String... skipped) {
        if (stack != null) {
            for (RecordedFrame f : stack.getFrames()) {
                String type = f.getMethod().getType().getName();
                if (JAVA.contains(f.getType()) && java.util.Arrays.stream(skipped).noneMatch(type::startsWith)) {
                    return type + "." + f.getMethod().getName() + (f.getLineNumber() > 0 ? ":" + f.getLineNumber() : "");
                }
            }
        }
        return innermostJava(stack);
    }

    private static void sample(RecordedStackTrace stack, Map<String, Long> collapsed) {
        if (stack == null) {
            return;
        }
        List<RecordedFrame> frames = stack.getFrames();
        StringBuilder b = new StringBuilder();
        for (int i = frames.size() - 1; i >= 0; i--) {
            RecordedFrame f = frames.get(i);
            if (b.length() > 0) {
                b.append(';');
            }
            switch (f.getType()) {
                case "Kernel" -> b.append(f.getMethod().getName()).append("_[k]");
                case "Native" -> b.append(f.getMethod().getName());
                default -> b.append(f.getMethod().getType().getName()).append('.').append(f.getMethod().getName())
                        .append(f.getType().equals("Inlined") ? "_[i]" : f.getType().equals("JIT compiled") ? "_[j]" : "");
            }
        }
        collapsed.merge(b.toString(), 1L, Long::sum);
    }

    void print(Path file) throws IOException {
        System.out.printf("%nrecording: %s (%,d bytes)%n", file.toAbsolutePath(), Files.size(file));
        long ebpf = counts.entrySet().stream().filter(c -> c.getKey().startsWith("ebpf.")).mapToLong(Map.Entry::getValue).sum();
        long jvm = counts.entrySet().stream().filter(c -> c.getKey().startsWith("jdk.")).mapToLong(Map.Entry::getValue).sum();
        System.out.printf("events: %,d from eBPF probes, %,d from the JVM's own recording%n", ebpf, jvm);
        counts.forEach((type, n) -> {
            if (type.startsWith("ebpf.")) {
                System.out.printf("  %-26s %,10d%n", type, n);
            }
        });

        if (container != null) {
            System.out.printf("%ncgroup %s%s, CPU quota %s, memory limit %s%n", container.getString("cgroupPath"),
                    container.getString("containerId") == null ? "" : " (container " + container.getString("containerId").substring(0, 12) + ")",
                    container.getDouble("cpuQuota") < 0 ? "none" : String.format(Locale.ROOT, "%.2f CPUs", container.getDouble("cpuQuota")),
                    container.getLong("memoryLimit") < 0 ? "none" : bytes(container.getLong("memoryLimit")));
        }
        System.out.println("\nprobes:");
        for (RecordedEvent s : probeStatus) {
            System.out.printf("  %-9s %-12s events %,9d  lost %,6d  %s%n", s.getString("probe"),
                    s.getBoolean("attached") ? "attached" : "not attached", s.getLong("events"), s.getLong("lost"),
                    s.getString("reason"));
        }

        if (!hottest.isEmpty()) {
            System.out.printf("%nhottest Java methods (innermost Java frame of %,d CPU samples, kernel time included):%n", cpuSamples);
            hottest.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(6)
                    .forEach(h -> System.out.printf("  %5.1f%%  %s%n", 100.0 * h.getValue() / cpuSamples, h.getKey()));
        }
        if (!blockedNanos.isEmpty()) {
            System.out.println("\nmost time off CPU (blocked, sleeping, waiting), by innermost Java frame:");
            blockedNanos.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(6)
                    .forEach(h -> System.out.printf("  %12s  %s%n", time(h.getValue()), h.getKey()));
        }

        if (opens > 0) {
            System.out.printf("%nfile opens: %,d (%,d in the document store)", opens, storeOpens);
            System.out.println(openErrors.isEmpty() ? "" : ", failed: " + openErrors);
            opensByThread.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(6)
                    .forEach(t -> System.out.printf("  %-28s %,8d%n", t.getKey(), t.getValue()));
        }

        if (!connections.isEmpty() || !connectNanos.isEmpty()) {
            System.out.println("\nTCP connections (counters read from each socket at its close):");
            connections.forEach((direction, c) -> System.out.printf("  %-9s %,7d  sent %10s  received %10s  retransmits %,d%n",
                    direction, c[0], bytes(c[1]), bytes(c[2]), c[3]));
            if (!connectNanos.isEmpty()) {
                List<Long> sorted = connectNanos.stream().sorted().toList();
                System.out.printf("  connects: %,d, latency median %s, p99 %s, max %s%s%n", sorted.size(),
                        time(sorted.get(sorted.size() / 2)), time(sorted.get((int) (sorted.size() * 0.99))),
                        time(sorted.get(sorted.size() - 1)), connectErrors.isEmpty() ? "" : "; failed: " + connectErrors);
            }
            if (retransmitEvents > 0) {
                System.out.printf("  retransmissions: %,d (ebpf.TcpRetransmit, on the last writer's stack)%n", retransmitEvents);
            }
            System.out.println("  opened at:");
            openedAt.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(4)
                    .forEach(o -> System.out.printf("  %,9d  %s%n", o.getValue(), o.getKey()));
        }

        if (!queryNanos.isEmpty()) {
            long n = queryNanos.values().stream().mapToLong(List::size).sum();
            System.out.printf("%nPostgreSQL: %,d statements timed by the server (ebpf.PostgresQuery, literals redacted)%s,"
                    + " by total server time:%n", n, failedQueries == 0 ? "" : String.format(", %,d failed", failedQueries));
            System.out.printf("  %8s %10s %10s %10s  %s%n", "count", "total", "median", "max", "statement  <- sent from");
            queryNanos.entrySet().stream()
                    .sorted(Comparator.comparingLong((Map.Entry<String, List<Long>> x) -> x.getValue().stream()
                            .mapToLong(Long::longValue).sum()).reversed())
                    .limit(5).forEach(x -> {
                        List<Long> d = x.getValue().stream().sorted().toList();
                        String site = querySites.get(x.getKey()).entrySet().stream().max(Map.Entry.comparingByValue())
                                .map(Map.Entry::getKey).orElse("?");
                        long lock = queryLockWait.getOrDefault(x.getKey(), 0L);
                        String text = x.getKey().length() > 70 ? x.getKey().substring(0, 69) + "…" : x.getKey();
                        System.out.printf("  %,8d %10s %10s %10s  %s  <- %s%s%n", d.size(),
                                time(d.stream().mapToLong(Long::longValue).sum()), time(d.get(d.size() / 2)),
                                time(d.get(d.size() - 1)), text, site, lock > 0 ? " (lock waits " + time(lock) + ")" : "");
                    });
        }

        if (!syscalls.isEmpty()) {
            System.out.println("\nsyscalls by total time (every call counted in the kernel):");
            System.out.printf("  %-18s %10s %8s %12s %12s%n", "syscall", "count", "errors", "total", "max");
            syscalls.entrySet().stream().sorted(Comparator.comparingLong((Map.Entry<String, long[]> x) -> x.getValue()[2]).reversed())
                    .limit(10).forEach(x -> System.out.printf("  %-18s %,10d %,8d %12s %12s%n", x.getKey(), x.getValue()[0],
                            x.getValue()[1], time(x.getValue()[2]), time(x.getValue()[3])));
        }
        if (!slowSyscalls.isEmpty()) {
            System.out.printf("%nslowest single syscalls (of %,d at or above the threshold):%n", slowSyscalls.size());
            slowSyscalls.stream().sorted(Comparator.comparing((RecordedEvent e) -> e.getDuration()).reversed()).limit(5)
                    .forEach(e -> System.out.printf("  %-18s %12s on %s%n", e.getString("syscall"),
                            time(e.getDuration().toNanos()), e.getThread() == null ? "?" : e.getThread().getOSName()));
        }
    }

    void writeFlameGraph(Path out) throws IOException {
        Arguments arguments = new Arguments();
        boolean mixed = !collapsed.isEmpty();
        arguments.title = mixed ? "CPU: ebpf.CPUSample (Java, native and kernel frames)" : "CPU: JVM execution samples";
        FlameGraph flame = new FlameGraph(arguments);
        StringBuilder text = new StringBuilder();
        (mixed ? collapsed : jvmCollapsed).forEach((stack, n) -> text.append(stack).append(' ').append(n).append('\n'));
        flame.parseCollapsed(new StringReader(text.toString()));
        try (var stream = Files.newOutputStream(out)) {
            flame.dump(stream);
        }
    }

    private static String bytes(long n) {
        return n >= 1 << 20 ? String.format(Locale.ROOT, "%.1f MB", n / 1048576.0)
                : n >= 1 << 10 ? String.format(Locale.ROOT, "%.1f KB", n / 1024.0) : n + " B";
    }

    private static String time(long nanos) {
        Duration d = Duration.ofNanos(nanos);
        if (nanos >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
        }
        if (nanos >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
        }
        return String.format(Locale.ROOT, "%.1f us", d.toNanos() / 1e3);
    }
}
