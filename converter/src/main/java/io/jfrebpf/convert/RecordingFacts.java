package io.jfrebpf.convert;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import io.jfrebpf.events.read.JdkThreads;
import io.jfrebpf.events.read.RecordedStacks;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * What the summary and the gate need from a recording, read in one pass: per syscall, per
 * file path, per remote endpoint, per SQL statement and per leaking stack, the counts, times and
 * bytes, and the CPU samples by innermost Java method with the period each stands for. The code
 * behind an event is the reader library's call site ({@link CallSites}). Bounded by what the
 * recording names (distinct syscalls, paths, statements), not by its event count.
 */
public final class RecordingFacts {
    /** Durations kept per key for percentiles: beyond this, a uniform sample (reservoir). */
    static final int KEPT_DURATIONS = 10_000;

    public static final class Syscall {
        public long count;
        public long errors;
        public long totalNs;
        public long maxNs;
        /** calls per log2 bucket lower bound (ns) */
        public final TreeMap<Long, Long> histogram = new TreeMap<>();

        /** The upper bound of the log2 bucket holding the q-quantile (at most the longest call). */
        public long quantileNs(double q) {
            long all = histogram.values().stream().mapToLong(Long::longValue).sum();
            if (all == 0) {
                return 0;
            }
            long need = (long) Math.ceil(q * all);
            long seen = 0;
            for (Map.Entry<Long, Long> b : histogram.entrySet()) {
                seen += b.getValue();
                if (seen >= need) {
                    return Math.min(Math.max(1, b.getKey() * 2), maxNs > 0 ? maxNs : Long.MAX_VALUE);
                }
            }
            return maxNs;
        }
    }

    /** Durations of one kind of thing (a statement, a path's opens, connects to an endpoint). */
    public static final class Timed {
        public long count;
        public long totalNs;
        public long maxNs;
        public long failed;
        public final List<Long> durations = new ArrayList<>();
        public final Map<String, Long> sites = new HashMap<>();
        private long seed = 0x9E3779B97F4A7C15L;

        void add(long ns, String site) {
            count++;
            totalNs += ns;
            maxNs = Math.max(maxNs, ns);
            if (durations.size() < KEPT_DURATIONS) {
                durations.add(ns);
            } else {
                seed = seed * 6364136223846793005L + 1442695040888963407L;
                long slot = Long.remainderUnsigned(seed >>> 1, count);
                if (slot < KEPT_DURATIONS) {
                    durations.set((int) slot, ns);
                }
            }
            if (site != null && sites.size() < 1000) {
                sites.merge(site, 1L, Long::sum);
            }
        }

        public long quantileNs(double q) {
            if (durations.isEmpty()) {
                return 0;
            }
            List<Long> sorted = durations.stream().sorted().toList();
            int i = (int) Math.min(sorted.size() - 1, Math.max(0, Math.ceil(q * sorted.size()) - 1));
            return sorted.get(i);
        }

        /** The most frequent call site, complete stacks first. */
        public String topSite() {
            String site = CallSites.mostFrequent(sites);
            return site == null ? "?" : site;
        }
    }

    public static final class Endpoint {
        public long connections;
        public long bytesSent;
        public long bytesReceived;
        public long retransmits;
        public long stillOpen;
        public final Timed connects = new Timed();
        public long connectErrors;
    }

    public record Leak(String site, long bytes, long allocations, String stackTop) {
    }

    public record Probe(String name, boolean attached, String reason, long events, long lost) {
    }

    public final Map<String, Long> eventCounts = new TreeMap<>();
    public final Map<String, Syscall> syscalls = new HashMap<>();
    public final Map<String, Timed> opensByPath = new HashMap<>();
    public final List<RecordedEvent> slowestOpens = new ArrayList<>();
    public final Map<String, Long> openErrors = new TreeMap<>();
    public final Map<String, Endpoint> endpoints = new HashMap<>();
    public final Map<String, Timed> queries = new HashMap<>();
    public final List<Leak> leaks = new ArrayList<>();
    public final Map<String, Long> cpuSelf = new HashMap<>();
    public long cpuSamples;
    public String cpuSource = "none";
    public final List<Probe> probes = new ArrayList<>();
    public long retransmitEvents;
    /** off-CPU time (ns) of the application's threads by innermost Java frame */
    public final Map<String, Long> offCpuNanos = new HashMap<>();
    /** off-CPU time (ns) of the JVM's, the JDK's and the agent's own threads, idle by design (the reader library's JdkThreads) */
    public long offCpuJdkNanos;
    /** the last ebpf.ContainerInfo: cgroup, container, limits */
    public String container;
    public Instant first;
    public Instant last;
    /** eBPF events with a stack, and those of them whose stack does not reach its thread's start. */
    public long stacks;
    public long shortStacks;
    /** The JVM's -XX:+PreserveFramePointer (jdk.BooleanFlag), null when the recording does not say. */
    public Boolean preserveFramePointer;
    /** The CPU time one sample of {@link #cpuSource} stands for, in ns; 0 when the recording does not say. */
    public long cpuPeriodNs;

    private final CallSites sites;
    private final Map<String, Long> jvmCpuSelf = new HashMap<>();
    private long jvmSamples;
    private long executionSampleType = -1;
    private final Map<Long, String> periods = new HashMap<>();

    RecordingFacts(CallSites sites) {
        this.sites = sites;
    }

    public static RecordingFacts read(Path file, PrintStream err) throws IOException {
        return read(file, CallSites.DEFAULT, err);
    }

    /** The facts of a recording, its call sites by {@code sites} (the application's packages, or the default rule). */
    public static RecordingFacts read(Path file, CallSites sites, PrintStream err) throws IOException {
        RecordingFacts f = new RecordingFacts(sites);
        Progress progress = new Progress(err, file.getFileName().toString());
        try (RecordingFile in = new RecordingFile(file)) {
            while (in.hasMoreEvents()) {
                f.add(in.readEvent());
                progress.tick();
            }
        }
        progress.done();
        if (f.cpuSamples == 0 && f.jvmSamples > 0) {
            f.cpuSelf.putAll(f.jvmCpuSelf);
            f.cpuSamples = f.jvmSamples;
            f.cpuSource = "jdk.ExecutionSample";
            f.cpuPeriodNs = periodNs(f.periods.get(f.executionSampleType));
        }
        return f;
    }

    /** The CPU time of {@code samples} samples (ns), 0 when the period is unknown. */
    public long cpuNanos(long samples) {
        return samples * cpuPeriodNs;
    }

    /**
     * Whether so many of the eBPF events' stacks do not reach their threads' start that the
     * code behind the events is mostly unknown: one in {@link #SHORT_STACKS_ONE_IN} or more (and
     * at least {@link #SHORT_STACKS_MIN}). A few short ones happen in any recording (a walk
     * through a native library built without frame pointers); whole recordings of them come
     * from JIT code that used the frame-pointer register for data (no -XX:+PreserveFramePointer).
     */
    public boolean stacksAreShort() {
        return shortStacks >= SHORT_STACKS_MIN && shortStacks * SHORT_STACKS_ONE_IN >= stacks;
    }

    static final long SHORT_STACKS_ONE_IN = 20;
    static final long SHORT_STACKS_MIN = 5;

    private static final Pattern HZ = Pattern.compile("cpu-clock at (\\d+) Hz");
    private static final Pattern PERIOD = Pattern.compile("(\\d+)\\s*(ns|us|ms|s)");

    /** A JFR period setting ("20 ms") in ns; 0 when it is none. */
    static long periodNs(String setting) {
        Matcher m = setting == null ? null : PERIOD.matcher(setting.trim());
        if (m == null || !m.matches()) {
            return 0;
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ns" -> n;
            case "us" -> n * 1_000;
            case "ms" -> n * 1_000_000;
            default -> n * 1_000_000_000;
        };
    }

    public Duration span() {
        return first == null ? Duration.ZERO : Duration.between(first, last);
    }

    public long lost() {
        return probes.stream().mapToLong(Probe::lost).sum();
    }

    private void add(RecordedEvent e) {
        String type = e.getEventType().getName();
        eventCounts.merge(type, 1L, Long::sum);
        Instant t = e.getStartTime();
        if (first == null || t.isBefore(first)) {
            first = t;
        }
        Instant end = e.getEndTime();
        if (last == null || end.isAfter(last)) {
            last = end;
        }
        if (type.startsWith(EventNames.PREFIX) && e.getStackTrace() != null) {
            stacks++;
            if (!CallSites.complete(RecordedStacks.of(e.getStackTrace()))) {
                shortStacks++;
            }
        }
        switch (type) {
            case EventNames.SYSCALL_STATISTICS -> {
                Syscall s = syscalls.computeIfAbsent(e.getString("syscall"), k -> new Syscall());
                s.count += e.getLong("count");
                s.errors += e.getLong("errors");
                s.totalNs += e.getLong("totalTime");
                s.maxNs = Math.max(s.maxNs, e.getLong("maxTime"));
                String h = e.getString("histogram");
                if (h != null) {
                    for (String pair : h.trim().split("\\s+")) {
                        int colon = pair.indexOf(':');
                        if (colon > 0) {
                            try {
                                s.histogram.merge(Long.parseLong(pair.substring(0, colon)), Long.parseLong(pair.substring(colon + 1)),
                                        Long::sum);
                            } catch (NumberFormatException ignored) {
                                // a malformed pair: the others still count
                            }
                        }
                    }
                }
            }
            case EventNames.FILE_OPEN -> {
                String path = e.getString("path");
                opensByPath.computeIfAbsent(path == null ? "?" : path, k -> new Timed()).add(e.getDuration().toNanos(),
                        callSite(e.getStackTrace()));
                String error = e.getString("error");
                if (error != null) {
                    openErrors.merge(error, 1L, Long::sum);
                }
                keepSlowest(slowestOpens, e, 10);
            }
            case EventNames.TCP_CONNECTION -> {
                Endpoint p = endpoint(e);
                p.connections++;
                p.bytesSent += e.getLong("bytesSent");
                p.bytesReceived += e.getLong("bytesReceived");
                p.retransmits += e.getLong("retransmits");
                if (e.getBoolean("stillOpen")) {
                    p.stillOpen++;
                }
            }
            case EventNames.TCP_CONNECT -> {
                Endpoint p = endpoint(e);
                if (e.getString("error") != null) {
                    p.connectErrors++;
                } else {
                    p.connects.add(e.getDuration().toNanos(), callSite(e.getStackTrace()));
                }
            }
            case EventNames.TCP_RETRANSMIT -> retransmitEvents++;
            case EventNames.POSTGRES_QUERY -> {
                Timed q = queries.computeIfAbsent(e.getString("query"), k -> new Timed());
                q.add(e.getDuration().toNanos(), callSite(e.getStackTrace()));
                if (e.getBoolean("failed")) {
                    q.failed++;
                }
            }
            case EventNames.NATIVE_LEAK -> leaks.add(new Leak(callSite(e.getStackTrace()), e.getLong("bytes"),
                    e.getLong("allocations"), stackTop(e.getStackTrace())));
            case EventNames.CPU_SAMPLE -> {
                cpuSamples++;
                cpuSource = EventNames.CPU_SAMPLE;
                cpuSelf.merge(innermostJava(e.getStackTrace()), 1L, Long::sum);
            }
            case "jdk.ExecutionSample" -> {
                jvmSamples++;
                executionSampleType = e.getEventType().getId();
                jvmCpuSelf.merge(innermostJava(e.getStackTrace()), 1L, Long::sum);
            }
            case "jdk.ActiveSetting" -> {
                if ("period".equals(e.getString("name"))) {
                    periods.put(e.getLong("id"), e.getString("value"));
                }
            }
            case "jdk.BooleanFlag" -> {
                if ("PreserveFramePointer".equals(e.getString("name"))) {
                    preserveFramePointer = e.getBoolean("value");
                }
            }
            case EventNames.OFF_CPU -> {
                if (e.getThread() != null && JdkThreads.isJdkInternal(e.getThread().getJavaName())) {
                    offCpuJdkNanos += e.getDuration().toNanos();
                } else {
                    offCpuNanos.merge(innermostJava(e.getStackTrace()), e.getDuration().toNanos(), Long::sum);
                }
            }
            case EventNames.CONTAINER_INFO -> container = String.format(java.util.Locale.ROOT, "cgroup %s%s, CPU quota %s, memory limit %s",
                    e.getString("cgroupPath"), e.getString("containerId") == null ? ""
                            : " (container " + e.getString("containerId").substring(0, Math.min(12, e.getString("containerId").length())) + ")",
                    e.getDouble("cpuQuota") < 0 ? "none" : String.format(java.util.Locale.ROOT, "%.2f CPUs", e.getDouble("cpuQuota")),
                    e.getLong("memoryLimit") < 0 ? "none" : Table.bytes(e.getLong("memoryLimit")));
            case EventNames.PROBE_STATUS -> {
                probes.add(new Probe(e.getString("probe"), e.getBoolean("attached"), e.getString("reason"), e.getLong("events"),
                        e.getLong("lost")));
                Matcher hz = e.getString("reason") == null ? null : HZ.matcher(e.getString("reason"));
                if ("cpu".equals(e.getString("probe")) && hz != null && hz.find()) {
                    cpuPeriodNs = 1_000_000_000L / Math.max(1, Long.parseLong(hz.group(1)));
                }
            }
            default -> {
            }
        }
    }

    private Endpoint endpoint(RecordedEvent e) {
        String remote = e.getString("remoteAddress");
        String key = (remote != null && remote.contains(":") ? "[" + remote + "]" : remote) + ":" + e.getInt("remotePort");
        if (e.hasField("direction") && "accepted".equals(e.getString("direction"))) {
            key = "accepted on port " + e.getInt("localPort");
        }
        return endpoints.computeIfAbsent(key, k -> new Endpoint());
    }

    private static void keepSlowest(List<RecordedEvent> slowest, RecordedEvent e, int n) {
        if (slowest.size() < n) {
            slowest.add(e);
        } else {
            RecordedEvent fastest = slowest.stream().min((a, b) -> a.getDuration().compareTo(b.getDuration())).orElseThrow();
            if (e.getDuration().compareTo(fastest.getDuration()) > 0) {
                slowest.remove(fastest);
                slowest.add(e);
            }
        }
    }

    public static final String NO_JAVA_FRAME = CallSites.NO_JAVA_FRAME;

    /** The innermost Java method of a stack ("(no Java frame)" for JVM and native threads). */
    public static String innermostJava(RecordedStackTrace stack) {
        return CallSites.innermostJava(RecordedStacks.of(stack));
    }

    /** The code behind an event: the reader library's call site, by this recording's rule. */
    String callSite(RecordedStackTrace stack) {
        return sites.of(RecordedStacks.of(stack));
    }

    static String stackTop(RecordedStackTrace stack) {
        if (stack == null || stack.getFrames().isEmpty()) {
            return "?";
        }
        return FoldedStacks.frameName(stack.getFrames().get(0));
    }

    static String thread(RecordedThread t) {
        if (t == null) {
            return "?";
        }
        return t.getJavaName() != null ? t.getJavaName() : t.getOSName();
    }
}
