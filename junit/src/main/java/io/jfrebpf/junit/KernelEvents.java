package io.jfrebpf.junit;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import io.jfrebpf.events.read.RecordedStacks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import org.opentest4j.AssertionFailedError;

/**
 * What the kernel saw during one test, from its start until the moment of each call: the
 * recording so far is dumped and its eBPF events from the test's start are read. Events of every
 * thread of the JVM count (code under test often hands work to other threads), the agent's own
 * excepted. A failed assertion names the offending events with the code that caused them, and
 * keeps the dump it read.
 */
public final class KernelEvents {
    private static final AtomicInteger DUMPS = new AtomicInteger();

    private final String test;
    private final Instant start;
    private final Path directory;
    private Path lastDump;

    KernelEvents(String test, Instant start, Path directory) {
        this.test = test;
        this.start = start;
        this.directory = directory;
    }

    /** Every eBPF event of the test so far. */
    public List<RecordedEvent> all() {
        Path dump = directory.resolve("dump-" + ProcessHandle.current().pid() + "-" + DUMPS.incrementAndGet() + ".jfr");
        try {
            AgentControl.dump(dump);
            List<RecordedEvent> events = new ArrayList<>();
            try (RecordingFile in = new RecordingFile(dump)) {
                while (in.hasMoreEvents()) {
                    RecordedEvent e = in.readEvent();
                    if (e.getEventType().getName().startsWith(EventNames.PREFIX) && !e.getStartTime().isBefore(start)) {
                        events.add(e);
                    }
                }
            }
            if (lastDump != null) {
                Files.deleteIfExists(lastDump);
            }
            lastDump = dump;
            return events;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the kernel events of " + test + ": " + e.getMessage(), e);
        }
    }

    /** The test's events of one type, e.g. {@link EventNames#FILE_OPEN}. */
    public List<RecordedEvent> events(String type) {
        return all().stream().filter(e -> e.getEventType().getName().equals(type)).toList();
    }

    /** Calls of one syscall (ebpf.SyscallLatency: every call when syscall.threshold=0, the extension's default). */
    public List<RecordedEvent> syscalls(String name) {
        requireProbe("syscall", "syscall counts");
        return events(EventNames.SYSCALL_LATENCY).stream().filter(e -> name.equals(e.getString("syscall"))).toList();
    }

    public List<RecordedEvent> fileOpens() {
        requireProbe("file", "file opens");
        return events(EventNames.FILE_OPEN);
    }

    /** Opens of a path under {@code directory} (or of the directory itself). */
    public List<RecordedEvent> fileOpensUnder(Path directory) {
        String dir = directory.toAbsolutePath().normalize().toString();
        return fileOpens().stream().filter(e -> {
            String p = e.getString("path");
            return p != null && (p.equals(dir) || p.startsWith(dir.endsWith("/") ? dir : dir + "/"));
        }).toList();
    }

    /** Outbound connects to a port, whatever the address. */
    public List<RecordedEvent> connectsTo(int port) {
        requireProbe("tcp", "connections");
        return events(EventNames.TCP_CONNECT).stream().filter(e -> e.getInt("remotePort") == port).toList();
    }

    /** Statements a colocated PostgreSQL server ran for this JVM whose (redacted) text contains {@code text}. */
    public List<RecordedEvent> queries(String text) {
        requireProbe("postgres", "queries");
        return events(EventNames.POSTGRES_QUERY).stream().filter(e -> {
            String q = e.getString("query");
            return q != null && q.contains(text);
        }).toList();
    }

    public void assertSyscallsAtMost(String name, long max) {
        List<RecordedEvent> calls = syscalls(name);
        if (calls.size() > max) {
            fail(String.format("expected at most %d %s calls during %s, the kernel saw %d", max, name, test, calls.size()), calls);
        }
    }

    public void assertNoFileOpensUnder(Path directory) {
        List<RecordedEvent> opens = fileOpensUnder(directory);
        if (!opens.isEmpty()) {
            fail(String.format("expected no file opened under %s during %s, the kernel saw %d", directory, test, opens.size()), opens);
        }
    }

    public void assertNoConnectionTo(int port) {
        List<RecordedEvent> connects = connectsTo(port);
        if (!connects.isEmpty()) {
            fail(String.format("expected no connection to port %d during %s, the kernel saw %d", port, test, connects.size()),
                    connects);
        }
    }

    /** The server-side p99 of the statements containing {@code text} must be below {@code limit}; none seen fails too. */
    public void assertQueryP99Below(String text, Duration limit) {
        List<RecordedEvent> qs = queries(text);
        if (qs.isEmpty()) {
            fail(String.format("no statement containing '%s' was seen during %s (is the server on this host, and the"
                    + " connection opened before the statement by more than ~100 ms?)", text, test), qs);
        }
        List<Duration> sorted = qs.stream().map(RecordedEvent::getDuration).sorted().toList();
        Duration p99 = sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(0.99 * sorted.size()) - 1));
        if (p99.compareTo(limit) >= 0) {
            fail(String.format("expected the p99 of '%s' below %s during %s, it was %s over %d statements", text, limit, test, p99,
                    qs.size()), qs.stream().sorted((a, b) -> b.getDuration().compareTo(a.getDuration())).toList());
        }
    }

    private void requireProbe(String probe, String what) {
        Map<String, String> states = AgentControl.probeStates();
        String state = states.get(probe);
        if (state == null || !state.startsWith("attached")) {
            throw new AssertionFailedError(what + " need the agent's " + probe + " probe, which is "
                    + (state == null ? "not among its probes " + states.keySet() + " (add it to probes=)" : state));
        }
    }

    private void fail(String message, List<RecordedEvent> events) {
        StringBuilder b = new StringBuilder(message);
        Map<String, Integer> bySite = new TreeMap<>();
        for (RecordedEvent e : events) {
            String what = e.hasField("path") ? e.getString("path") + " " : e.hasField("remotePort") ? e.getString("remoteAddress")
                    + ":" + e.getInt("remotePort") + " " : e.hasField("query") ? e.getString("query") + " " : "";
            bySite.merge(what + "<- " + site(e.getStackTrace()), 1, Integer::sum);
        }
        bySite.entrySet().stream().limit(10).forEach(s -> b.append(String.format("%n  %4d x %s", s.getValue(), s.getKey())));
        if (lastDump != null) {
            b.append("\n  (events read from ").append(lastDump).append(')');
            lastDump = null; // kept for a look
        }
        throw new AssertionFailedError(b.toString());
    }

    /** The code that caused the event: the reader library's call site (JDK and library frames skipped, incomplete stacks said). */
    static String site(RecordedStackTrace stack) {
        return CallSites.DEFAULT.of(RecordedStacks.of(stack));
    }
}
