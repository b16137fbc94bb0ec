package io.jfrebpf.convert;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code gate base.jfr new.jfr [limits]}: the figures of two recordings of the same work side by
 * side — CPU time in all and per method (shares beside), syscall p99, query p99 and server time
 * per statement, bytes per connection, leaked bytes — and a non-zero exit when the same work
 * costs more beyond a limit ({@link Limits}). CPU time is the samples times the period each
 * stands for: 1/cpu.hz of a CPU for ebpf.CPUSample (the cpu probe's ProbeStatus says the
 * frequency), the recording's period setting for jdk.ExecutionSample.
 */
final class Gate {
    /** One compared figure; {@code limit} in words; over = beyond its limit. */
    record Figure(String metric, String base, String next, String change, String limit, boolean over, double score) {
    }

    /** The figures compared, and what could not be (too few samples, an unknown period). */
    record Comparison(List<Figure> figures, List<String> notes) {
    }

    static final int SHOWN = 15;

    private Gate() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws IOException {
        if (args.size() < 2) {
            throw new IllegalArgumentException("gate takes base.jfr new.jfr [limit=value ...]");
        }
        Path basePath = Main.input(args.get(0));
        Path nextPath = Main.input(args.get(1));
        Limits limits = Limits.parse(args.subList(2, args.size()));
        RecordingFacts base = RecordingFacts.read(basePath, err);
        RecordingFacts next = RecordingFacts.read(nextPath, err);
        Comparison comparison = compare(base, next, limits);
        List<Figure> figures = comparison.figures();

        out.printf(Locale.ROOT, "gate: %s (%s, %s) against %s (%s, %s)%n", nextPath.getFileName(),
                Table.time(next.span().toNanos()), cpu(next), basePath.getFileName(), Table.time(base.span().toNanos()), cpu(base));
        comparison.notes().forEach(n -> out.println("gate: " + n));
        if (next.lost() > 0 || base.lost() > 0) {
            out.printf(Locale.ROOT, "gate: WARNING: the recordings lost events (base %s, new %s): their counts are lower bounds%n",
                    Table.count(base.lost()), Table.count(next.lost()));
        }
        List<Figure> shown = new ArrayList<>(figures.stream().filter(Figure::over).toList());
        figures.stream().filter(f -> !f.over()).sorted(Comparator.comparingDouble(Figure::score).reversed())
                .limit(Math.max(0, SHOWN - shown.size())).forEach(shown::add);
        Table t = new Table("metric", ">base", ">new", ">change", ">limit", "verdict");
        shown.forEach(f -> t.row(f.metric(), f.base(), f.next(), f.change(), f.limit(), f.over() ? "REGRESSION" : "ok"));
        if (!t.isEmpty()) {
            t.print(out);
        }
        long over = figures.stream().filter(Figure::over).count();
        if (figures.isEmpty()) {
            out.println("gate: PASSED, but nothing was comparable: no figure had enough observations in both recordings");
            return Main.OK;
        }
        if (over > 0) {
            out.printf(Locale.ROOT, "gate: FAILED: %d of %d figures over their limits%n", over, figures.size());
            return Main.REGRESSION;
        }
        out.printf(Locale.ROOT, "gate: PASSED: %d figures compared, none over its limit%n", figures.size());
        return Main.OK;
    }

    private static String cpu(RecordingFacts f) {
        return Table.count(f.cpuSamples) + " CPU samples" + (f.cpuPeriodNs > 0 ? " = " + Table.time(f.cpuNanos(f.cpuSamples)) + " CPU" : "");
    }

    static Comparison compare(RecordingFacts base, RecordingFacts next, Limits limits) {
        List<Figure> figures = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        cpu(base, next, limits, figures, notes);
        if (!Double.isNaN(limits.syscallP99())) {
            for (Map.Entry<String, RecordingFacts.Syscall> e : base.syscalls.entrySet()) {
                RecordingFacts.Syscall n = next.syscalls.get(e.getKey());
                if (n == null || e.getValue().count < Limits.MIN_SYSCALLS || n.count < Limits.MIN_SYSCALLS) {
                    continue;
                }
                figures.add(latency("syscall p99 " + e.getKey(), e.getValue().quantileNs(0.99), n.quantileNs(0.99),
                        limits.syscallP99(), Limits.SYSCALL_FLOOR_NS));
            }
        }
        if (!Double.isNaN(limits.queryP99())) {
            for (Map.Entry<String, RecordingFacts.Timed> e : base.queries.entrySet()) {
                RecordingFacts.Timed n = next.queries.get(e.getKey());
                if (n == null || e.getValue().count < Limits.MIN_QUERIES || n.count < Limits.MIN_QUERIES) {
                    continue;
                }
                figures.add(latency("query p99 " + Table.shorten(e.getKey(), 60), e.getValue().quantileNs(0.99), n.quantileNs(0.99),
                        limits.queryP99(), Limits.QUERY_FLOOR_NS));
            }
        }
        if (!Double.isNaN(limits.queryTotal())) {
            for (Map.Entry<String, RecordingFacts.Timed> e : base.queries.entrySet()) {
                RecordingFacts.Timed b = e.getValue();
                RecordingFacts.Timed n = next.queries.get(e.getKey());
                if (n == null || Math.max(b.count, n.count) < Limits.MIN_QUERIES) {
                    continue;
                }
                boolean over = n.totalNs > b.totalNs * limits.queryTotal() && n.totalNs - b.totalNs > Limits.QUERY_TOTAL_FLOOR_NS;
                figures.add(new Figure("query time in all " + Table.shorten(e.getKey(), 60),
                        Table.time(b.totalNs) + ", " + Table.count(b.count) + "x", Table.time(n.totalNs) + ", " + Table.count(n.count) + "x",
                        ratio(b.totalNs, n.totalNs), "x" + num(limits.queryTotal()) + ", +" + Table.time(Limits.QUERY_TOTAL_FLOOR_NS),
                        over, score(b.totalNs, n.totalNs, limits.queryTotal())));
            }
        }
        if (!Double.isNaN(limits.connectionBytes())) {
            for (Map.Entry<String, RecordingFacts.Endpoint> e : base.endpoints.entrySet()) {
                RecordingFacts.Endpoint n = next.endpoints.get(e.getKey());
                RecordingFacts.Endpoint b = e.getValue();
                if (n == null || b.connections < Limits.MIN_CONNECTIONS || n.connections < Limits.MIN_CONNECTIONS) {
                    continue;
                }
                long bb = (b.bytesSent + b.bytesReceived) / b.connections;
                long nb = (n.bytesSent + n.bytesReceived) / n.connections;
                boolean over = nb > bb * limits.connectionBytes() && nb - bb > Limits.CONNECTION_BYTES_FLOOR;
                figures.add(new Figure("bytes/connection " + e.getKey(), Table.bytes(bb), Table.bytes(nb), ratio(bb, nb),
                        "x" + num(limits.connectionBytes()) + ", +10 KB", over, score(bb, nb, limits.connectionBytes())));
            }
        }
        if (!Double.isNaN(limits.leakedBytes()) && (!base.leaks.isEmpty() || !next.leaks.isEmpty())) {
            long bb = base.leaks.stream().mapToLong(RecordingFacts.Leak::bytes).sum();
            long nb = next.leaks.stream().mapToLong(RecordingFacts.Leak::bytes).sum();
            boolean over = nb > bb * limits.leakedBytes() && nb - bb > Limits.LEAK_FLOOR;
            figures.add(new Figure("native memory leaked", Table.bytes(bb), Table.bytes(nb), ratio(bb, nb),
                    "x" + num(limits.leakedBytes()) + ", +1 MB", over, score(bb, nb, limits.leakedBytes())));
        }
        return new Comparison(figures, notes);
    }

    static final String JVM_THREADS = "CPU time of JVM and native threads (no Java frame: JIT, GC...)";

    /**
     * CPU time in all and per innermost Java method (the JVM's own threads one figure), and, when
     * asked for, the methods' shares. Over a limit only when the change also stands out of the
     * sampling noise: a count of n samples varies by about sqrt(n), the difference of two by
     * sqrt(n1 + n2) samples (each weighted by its period when the periods differ).
     */
    private static void cpu(RecordingFacts base, RecordingFacts next, Limits limits, List<Figure> figures, List<String> notes) {
        if (base.cpuSamples == 0 && next.cpuSamples == 0) {
            return;
        }
        if (!base.cpuSource.equals(next.cpuSource)) {
            notes.add("CPU not compared: the base's samples are " + base.cpuSource + ", the new recording's " + next.cpuSource);
            return;
        }
        if (base.cpuSamples < limits.cpuMin() || next.cpuSamples < limits.cpuMin()) {
            notes.add(String.format(Locale.ROOT, "CPU not judged: %s and %s samples, fewer than cpu.min=%d in one of them"
                    + " (record more of the work, or sample faster: cpu.hz)", Table.count(base.cpuSamples),
                    Table.count(next.cpuSamples), limits.cpuMin()));
            return;
        }
        boolean periods = base.cpuPeriodNs > 0 && next.cpuPeriodNs > 0;
        double pb = periods ? base.cpuPeriodNs : 1;
        double pn = periods ? next.cpuPeriodNs : 1;
        if (!periods) {
            notes.add("the sample period of " + (base.cpuPeriodNs > 0 ? "the new recording" : "the base") + " is unknown:"
                    + " CPU compared in samples, as if both had the same");
        }
        if (!Double.isNaN(limits.cpuTotal())) {
            figures.add(cpuTime("CPU time in all", base.cpuSamples, next.cpuSamples, pb, pn, base.cpuSamples, next.cpuSamples,
                    limits.cpuTotal(), limits.cpuNoise(), periods, true));
        }
        Set<String> methods = new HashSet<>(base.cpuSelf.keySet());
        methods.addAll(next.cpuSelf.keySet());
        for (String m : methods) {
            long b = base.cpuSelf.getOrDefault(m, 0L);
            long n = next.cpuSelf.getOrDefault(m, 0L);
            String metric = m.equals(RecordingFacts.NO_JAVA_FRAME) ? JVM_THREADS : "CPU time " + m;
            if (!Double.isNaN(limits.cpuMethod()) && Math.max(b, n) >= Limits.MIN_METHOD_SAMPLES) {
                // a method the base does not have is shown, never over: a rename is not a cost, the total says what is
                figures.add(cpuTime(metric, b, n, pb, pn, base.cpuSamples, next.cpuSamples, limits.cpuMethod(), limits.cpuNoise(),
                        periods, b > 0));
            }
            double sb = b / (double) base.cpuSamples;
            double sn = n / (double) next.cpuSamples;
            if (!Double.isNaN(limits.cpuShare()) && Math.max(sb, sn) >= Limits.MIN_CPU_SHARE) {
                double points = 100 * (sn - sb);
                figures.add(new Figure("CPU share " + (m.equals(RecordingFacts.NO_JAVA_FRAME) ? "of JVM and native threads" : m),
                        Table.percent(sb), Table.percent(sn), String.format(Locale.ROOT, "%+.1f pp", points),
                        String.format(Locale.ROOT, "+%s pp", num(limits.cpuShare())), points > limits.cpuShare(),
                        points / limits.cpuShare()));
            }
        }
    }

    /**
     * One CPU time figure: b and n samples of periods pb and pn, their shares of all samples
     * beside; over when beyond the ratio and {@code sigmas} standard deviations (NaN: the ratio alone).
     */
    private static Figure cpuTime(String metric, long b, long n, double pb, double pn, long allBase, long allNext, double limit,
            double sigmas, boolean periods, boolean judged) {
        double tb = b * pb;
        double tn = n * pn;
        double noise = Double.isNaN(sigmas) ? 0 : sigmas * Math.sqrt(b * pb * pb + n * pn * pn);
        boolean over = judged && tn > tb * limit && tn - tb > noise;
        boolean total = b == allBase && n == allNext;
        String cb = (periods ? Table.time((long) tb) + ", " : "") + (total ? Table.count(b) + " samples" : Table.percent(b / (double) allBase));
        String cn = (periods ? Table.time((long) tn) + ", " : "") + (total ? Table.count(n) + " samples" : Table.percent(n / (double) allNext));
        double score = b == 0 ? 0 : (tn / tb - 1) / (limit - 1 + 1e-9);
        return new Figure(metric, cb, cn, b == 0 ? "new" : String.format(Locale.ROOT, "x%.2f", tn / tb), "x" + num(limit), over,
                judged ? score : 0);
    }

    private static Figure latency(String metric, long b, long n, double limit, long floorNs) {
        boolean over = n > b * limit && n - b > floorNs;
        return new Figure(metric, Table.time(b), Table.time(n), ratio(b, n), "x" + num(limit) + ", +" + Table.time(floorNs), over,
                score(b, n, limit));
    }

    private static String ratio(long b, long n) {
        return b == 0 ? (n == 0 ? "=" : "new") : String.format(Locale.ROOT, "x%.2f", n / (double) b);
    }

    private static double score(long b, long n, double limit) {
        return b == 0 ? (n == 0 ? 0 : 1) : (n / (double) b - 1) / (limit - 1 + 1e-9);
    }

    private static String num(double x) {
        return x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x);
    }
}
