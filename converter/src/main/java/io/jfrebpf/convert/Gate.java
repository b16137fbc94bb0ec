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
 * {@code gate base.jfr new.jfr [limits]}: the figures of two recordings of the same workload
 * side by side — CPU share per method, syscall p99, query p99, bytes per connection, leaked
 * bytes — and a non-zero exit when one got worse beyond its limit ({@link Limits}).
 */
final class Gate {
    /** One compared figure; {@code limit} in words; over = beyond its limit. */
    record Figure(String metric, String base, String next, String change, String limit, boolean over, double score) {
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
        List<Figure> figures = compare(base, next, limits);

        out.printf(Locale.ROOT, "gate: %s (%s, %s CPU samples) against %s (%s, %s CPU samples)%n", nextPath.getFileName(),
                Table.time(next.span().toNanos()), Table.count(next.cpuSamples), basePath.getFileName(),
                Table.time(base.span().toNanos()), Table.count(base.cpuSamples));
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

    static List<Figure> compare(RecordingFacts base, RecordingFacts next, Limits limits) {
        List<Figure> figures = new ArrayList<>();
        if (!Double.isNaN(limits.cpuPoints()) && base.cpuSamples > 0 && next.cpuSamples > 0) {
            // Java methods as shares of the samples in Java code; the JVM's own threads (JIT, GC) apart
            long baseJava = base.cpuSamples - base.cpuSelf.getOrDefault(RecordingFacts.NO_JAVA_FRAME, 0L);
            long nextJava = next.cpuSamples - next.cpuSelf.getOrDefault(RecordingFacts.NO_JAVA_FRAME, 0L);
            Set<String> methods = new HashSet<>(base.cpuSelf.keySet());
            methods.addAll(next.cpuSelf.keySet());
            methods.remove(RecordingFacts.NO_JAVA_FRAME);
            if (baseJava > 0 && nextJava > 0) {
                for (String m : methods) {
                    cpuShare(figures, "CPU share " + m, base.cpuSelf.getOrDefault(m, 0L) / (double) baseJava,
                            next.cpuSelf.getOrDefault(m, 0L) / (double) nextJava, limits);
                }
            }
            cpuShare(figures, "CPU share of JVM and native threads (no Java frame: JIT, GC...)",
                    base.cpuSelf.getOrDefault(RecordingFacts.NO_JAVA_FRAME, 0L) / (double) base.cpuSamples,
                    next.cpuSelf.getOrDefault(RecordingFacts.NO_JAVA_FRAME, 0L) / (double) next.cpuSamples, limits);
        }
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
        return figures;
    }

    private static void cpuShare(List<Figure> figures, String metric, double b, double n, Limits limits) {
        if (Math.max(b, n) < Limits.MIN_CPU_SHARE) {
            return;
        }
        double points = 100 * (n - b);
        figures.add(new Figure(metric, Table.percent(b), Table.percent(n), String.format(Locale.ROOT, "%+.1f pp", points),
                String.format(Locale.ROOT, "+%s pp", num(limits.cpuPoints())), points > limits.cpuPoints(), points / limits.cpuPoints()));
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
