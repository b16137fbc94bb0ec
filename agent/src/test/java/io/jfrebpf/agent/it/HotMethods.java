package io.jfrebpf.agent.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * The hot methods of one profiler's CPU samples in a JFR file (ours: {@code ebpf.CPUSample};
 * async-profiler's: {@code jdk.ExecutionSample}, read with the JDK's parser), named alike for
 * both: a Java frame by its class and method (whatever its frame type), any other frame (a stub,
 * a C or C++ function) by its symbol without a parameter list. Kernel frames are left out: a
 * sample's self method is its innermost frame in user space. A method's total counts the samples
 * with the method anywhere inside a given root method (each sample once).
 */
final class HotMethods {
    /** Frame types that are not Java code, ours and async-profiler's. */
    static final Set<String> NOT_JAVA = Set.of("Native", "C++", "Kernel");

    final Map<String, Long> self = new HashMap<>();
    final Map<String, Long> total = new HashMap<>();
    long samples;

    /** A method and its share of the samples. */
    record Share(String method, long samples, double share) {
    }

    /**
     * The samples of {@code type} on threads whose Java name {@code threads} accepts; totals count
     * the frames inside the innermost frame of {@code root} (class.method), exclusive.
     */
    static HotMethods read(Path recording, String type, Predicate<String> threads, String root) throws IOException {
        HotMethods h = new HotMethods();
        try (RecordingFile in = new RecordingFile(recording)) {
            while (in.hasMoreEvents()) {
                RecordedEvent e = in.readEvent();
                if (!e.getEventType().getName().equals(type)) {
                    continue;
                }
                // JFR's and async-profiler's execution samples name their thread sampledThread
                RecordedThread t = e.hasField("sampledThread") ? e.getThread("sampledThread") : e.getThread();
                if (t != null && t.getJavaName() != null && threads.test(t.getJavaName())) {
                    h.add(e.getStackTrace() == null ? List.of() : e.getStackTrace().getFrames(), root);
                }
            }
        }
        return h;
    }

    static String name(RecordedFrame f) {
        String method = f.getMethod().getName();
        if (!NOT_JAVA.contains(f.getType())) {
            return f.getMethod().getType().getName().replace('/', '.') + "." + method;
        }
        int parameters = method.indexOf('(');
        return parameters > 0 ? method.substring(0, parameters) : method;
    }

    void add(List<RecordedFrame> frames, String root) {
        samples++;
        List<String> user = frames.stream().filter(f -> !"Kernel".equals(f.getType())).map(HotMethods::name).toList();
        self.merge(user.isEmpty() ? "(no user frame)" : user.get(0), 1L, Long::sum);
        int inner = user.indexOf(root);
        if (inner >= 0) {
            for (String m : new HashSet<>(user.subList(0, inner))) {
                total.merge(m, 1L, Long::sum);
            }
        }
    }

    static List<Share> top(Map<String, Long> counts, long samples, int n) {
        return counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(n).map(e -> new Share(e.getKey(), e.getValue(), (double) e.getValue() / samples)).toList();
    }

    double share(Map<String, Long> counts, String method) {
        return samples == 0 ? 0 : (double) counts.getOrDefault(method, 0L) / samples;
    }

    /** Two top lists side by side, with each method's share in the other profile. */
    static String table(String title, List<Share> ours, List<Share> theirs, HotMethods o, HotMethods t, Map<String, Long> oc,
            Map<String, Long> tc) {
        StringBuilder b = new StringBuilder(title).append('\n');
        b.append(String.format(Locale.ROOT, " #  %-62s %6s %6s | %-62s %6s %6s%n", "jfr-ebpf (" + o.samples + " samples)", "ours", "theirs",
                "async-profiler (" + t.samples + " samples)", "theirs", "ours"));
        for (int i = 0; i < Math.max(ours.size(), theirs.size()); i++) {
            Share a = i < ours.size() ? ours.get(i) : null;
            Share p = i < theirs.size() ? theirs.get(i) : null;
            b.append(String.format(Locale.ROOT, "%2d  %-62s %6s %6s | %-62s %6s %6s%n", i + 1, a == null ? "" : shorten(a.method()),
                    a == null ? "" : pct(a.share()), a == null ? "" : pct(t.share(tc, a.method())), p == null ? "" : shorten(p.method()),
                    p == null ? "" : pct(p.share()), p == null ? "" : pct(o.share(oc, p.method()))));
        }
        return b.toString();
    }

    static String shorten(String method) {
        return method.length() <= 62 ? method : "…" + method.substring(method.length() - 61);
    }

    static String pct(double share) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * share);
    }
}
