package io.jfrebpf.convert;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;

/** The tables a person reads first about a recording. */
final class Summary {
    static final int TOP = 10;

    private Summary() {
    }

    /**
     * What the summary says, once and first, about stacks that do not reach their threads' start:
     * a paragraph when they are many ({@link RecordingFacts#stacksAreShort}), saying why when the
     * recording tells (the JVM's PreserveFramePointer flag) and what it means for the call sites
     * below; a line when there are a few; null when every stack is whole.
     */
    static String shortStacks(RecordingFacts f) {
        if (f.shortStacks == 0) {
            return null;
        }
        String share = String.format(Locale.ROOT, "%s of %s eBPF stacks (%s)", Table.count(f.shortStacks), Table.count(f.stacks),
                Table.percent(f.shortStacks / (double) Math.max(1, f.stacks)));
        if (!f.stacksAreShort()) {
            return "stacks: " + share + " end before their thread's start; the code behind those events reads "
                    + CallSites.INCOMPLETE + " below.";
        }
        String why;
        if (Boolean.FALSE.equals(f.preserveFramePointer)) {
            why = "this JVM ran without -XX:+PreserveFramePointer, so JIT-compiled Java code may use the frame-pointer register"
                    + " for data, and the kernel's stack walk ends at such a frame.";
        } else if (Boolean.TRUE.equals(f.preserveFramePointer)) {
            why = "the stack walk lost its way in native code built without frame pointers.";
        } else {
            why = "most likely the JVM ran without -XX:+PreserveFramePointer (the recording does not say: no JVM flags in it),"
                    + " so the kernel's stack walk ended at a JIT-compiled frame.";
        }
        return "STACKS ARE SHORT: " + share + " end before their thread's start: " + why + "\n"
                + "  The code behind those events is unknown: their call sites below read " + CallSites.INCOMPLETE
                + " (a short stack's innermost frames are JDK code such as sun.nio.ch.Net.connect0, not its caller)."
                + (Boolean.TRUE.equals(f.preserveFramePointer) ? "" : "\n  Start the JVM with -XX:+PreserveFramePointer for whole stacks.");
    }

    static void print(Path file, RecordingFacts f, PrintStream out) {
        long ebpf = f.eventCounts.entrySet().stream().filter(e -> e.getKey().startsWith(EventNames.PREFIX)).mapToLong(Map.Entry::getValue).sum();
        long jvm = f.eventCounts.entrySet().stream().filter(e -> e.getKey().startsWith("jdk.")).mapToLong(Map.Entry::getValue).sum();
        out.printf("%s: %s, %s eBPF events, %s JVM events%n", file.getFileName(), Table.time(f.span().toNanos()),
                Table.count(ebpf), Table.count(jvm));
        String shortStacks = shortStacks(f);
        if (shortStacks != null) {
            out.println("\n" + shortStacks);
        }

        Table types = new Table("eBPF event", ">count");
        f.eventCounts.forEach((type, n) -> {
            if (type.startsWith(EventNames.PREFIX)) {
                types.row(type, Table.count(n));
            }
        });
        if (!types.isEmpty()) {
            out.println();
            types.print(out);
        }
        if (f.container != null) {
            out.println("\n" + f.container);
        }

        if (!f.probes.isEmpty()) {
            long lost = f.lost();
            out.println(lost > 0 ? "\nprobes — THIS RECORDING LOST " + Table.count(lost) + " EVENTS: counts below are lower bounds"
                    : "\nprobes (nothing lost)");
            Table t = new Table("probe", "attached", ">events", ">lost", "how, or why not");
            f.probes.forEach(p -> t.row(p.name(), p.attached() ? "yes" : "no", Table.count(p.events()), Table.count(p.lost()),
                    Table.shorten(p.reason(), 110)));
            t.print(out);
        }

        if (f.cpuSamples > 0) {
            out.printf("%nCPU: hottest methods (innermost Java frame of %s %s%s)%n", Table.count(f.cpuSamples), f.cpuSource,
                    f.cpuPeriodNs > 0 ? ", " + Table.time(f.cpuNanos(f.cpuSamples)) + " of CPU time at " + Table.time(f.cpuPeriodNs)
                            + " a sample" : "");
            Table t = f.cpuPeriodNs > 0 ? new Table(">share", ">samples", ">CPU time", "method") : new Table(">share", ">samples", "method");
            f.cpuSelf.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(TOP)
                    .forEach(e -> {
                        if (f.cpuPeriodNs > 0) {
                            t.row(Table.percent(e.getValue() / (double) f.cpuSamples), Table.count(e.getValue()),
                                    Table.time(f.cpuNanos(e.getValue())), e.getKey());
                        } else {
                            t.row(Table.percent(e.getValue() / (double) f.cpuSamples), Table.count(e.getValue()), e.getKey());
                        }
                    });
            t.print(out);
        }

        if (!f.offCpuNanos.isEmpty()) {
            out.println("\noff CPU: most time blocked, sleeping or waiting (" + EventNames.OFF_CPU + ", by innermost Java frame"
                    + (f.offCpuJdkNanos > 0 ? "; " + Table.time(f.offCpuJdkNanos) + " of the JVM's and the JDK's own threads left out" : "")
                    + ")");
            Table t = new Table(">time", "method");
            f.offCpuNanos.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(TOP)
                    .forEach(e -> t.row(Table.time(e.getValue()), e.getKey()));
            t.print(out);
        }

        if (!f.syscalls.isEmpty()) {
            out.println("\nsyscalls by total time (every call counted in the kernel; p50/p99 are log2 bucket bounds)");
            Table t = new Table("syscall", ">calls", ">errors", ">total", ">p50", ">p99", ">max");
            f.syscalls.entrySet().stream().sorted(Comparator.comparingLong((Map.Entry<String, RecordingFacts.Syscall> e) -> e.getValue().totalNs)
                    .reversed()).limit(TOP).forEach(e -> {
                        RecordingFacts.Syscall s = e.getValue();
                        t.row(e.getKey(), Table.count(s.count), Table.count(s.errors), Table.time(s.totalNs),
                                Table.time(s.quantileNs(0.5)), Table.time(s.quantileNs(0.99)), Table.time(s.maxNs));
                    });
            t.print(out);
        }

        if (!f.opensByPath.isEmpty()) {
            long opens = f.opensByPath.values().stream().mapToLong(x -> x.count).sum();
            out.printf("%nfile opens: %s of %s paths%s%n", Table.count(opens), Table.count(f.opensByPath.size()),
                    f.openErrors.isEmpty() ? "" : ", failed: " + f.openErrors);
            out.println("  slowest:");
            Table slow = new Table(">time", "thread", "error", "path  <- opened from");
            f.slowestOpens.stream().sorted(Comparator.comparing((jdk.jfr.consumer.RecordedEvent e) -> e.getDuration()).reversed())
                    .forEach(e -> slow.row(Table.time(e.getDuration().toNanos()), RecordingFacts.thread(e.getThread()),
                            e.getString("error") == null ? "" : e.getString("error"),
                            e.getString("path") + "  <- " + f.callSite(e.getStackTrace())));
            slow.print(out);
            out.println("  most opened:");
            Table most = new Table(">opens", ">total", "path  <- mostly from");
            f.opensByPath.entrySet().stream().sorted(Comparator.comparingLong((Map.Entry<String, RecordingFacts.Timed> e) -> e.getValue().count)
                    .reversed()).limit(TOP).forEach(e -> most.row(Table.count(e.getValue().count), Table.time(e.getValue().totalNs),
                            e.getKey() + "  <- " + e.getValue().topSite()));
            most.print(out);
        }

        if (!f.endpoints.isEmpty()) {
            out.printf("%nTCP connections by bytes (%s retransmission events)%n", Table.count(f.retransmitEvents));
            Table t = new Table("peer", ">connections", ">sent", ">received", ">bytes/conn", ">retransmits", ">connect p50",
                    ">connect p99", "connected from");
            f.endpoints.entrySet().stream().sorted(Comparator.comparingLong(
                    (Map.Entry<String, RecordingFacts.Endpoint> e) -> e.getValue().bytesSent + e.getValue().bytesReceived).reversed())
                    .limit(TOP).forEach(e -> {
                        RecordingFacts.Endpoint p = e.getValue();
                        t.row(e.getKey(), Table.count(p.connections) + (p.stillOpen > 0 ? " (" + p.stillOpen + " open)" : ""),
                                Table.bytes(p.bytesSent), Table.bytes(p.bytesReceived),
                                p.connections == 0 ? "-" : Table.bytes((p.bytesSent + p.bytesReceived) / p.connections),
                                Table.count(p.retransmits),
                                p.connects.count == 0 ? "-" : Table.time(p.connects.quantileNs(0.5)),
                                p.connects.count == 0 ? "-" : Table.time(p.connects.quantileNs(0.99)),
                                p.connects.count == 0 ? "" : p.connects.topSite() + (p.connectErrors > 0 ? " (" + p.connectErrors
                                        + " failed)" : ""));
                    });
            t.print(out);
        }

        if (!f.queries.isEmpty()) {
            long n = f.queries.values().stream().mapToLong(q -> q.count).sum();
            out.printf("%nPostgreSQL: slowest statements by total server time (%s statements)%n", Table.count(n));
            Table t = new Table(">count", ">total", ">p50", ">p99", ">max", ">failed", "statement  <- sent from");
            f.queries.entrySet().stream().sorted(Comparator.comparingLong((Map.Entry<String, RecordingFacts.Timed> e) -> e.getValue().totalNs)
                    .reversed()).limit(TOP).forEach(e -> {
                        RecordingFacts.Timed q = e.getValue();
                        t.row(Table.count(q.count), Table.time(q.totalNs), Table.time(q.quantileNs(0.5)),
                                Table.time(q.quantileNs(0.99)), Table.time(q.maxNs), Table.count(q.failed),
                                Table.shorten(e.getKey(), 80) + "  <- " + q.topSite());
                    });
            t.print(out);
        }

        if (!f.leaks.isEmpty()) {
            long bytes = f.leaks.stream().mapToLong(RecordingFacts.Leak::bytes).sum();
            out.printf("%nnative leak suspects: %s not freed (%s, by stack)%n", Table.bytes(bytes), EventNames.NATIVE_LEAK);
            Table t = new Table(">bytes", ">allocations", "allocated at  <- called from");
            f.leaks.stream().sorted(Comparator.comparingLong(RecordingFacts.Leak::bytes).reversed()).limit(TOP)
                    .forEach(l -> t.row(Table.bytes(l.bytes()), Table.count(l.allocations()), l.stackTop() + "  <- " + l.site()));
            t.print(out);
        }
    }
}
