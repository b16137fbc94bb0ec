package io.jfrebpf.convert;

import io.jfrebpf.events.read.EventNames;
import io.jfrebpf.events.read.EventWeight;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/** The stacks of one event type of a recording, folded and weighted ({@link EventWeight}). */
final class StackReader {
    static final String DEFAULT_EBPF = EventNames.CPU_SAMPLE;
    static final String DEFAULT_JVM = "jdk.ExecutionSample";

    record Stacks(String type, EventWeight weight, FoldedStacks folded) {
    }

    private StackReader() {
    }

    /** The recording has no stacks of the event type asked for: the message lists those it has. */
    static final class NoSuchEventException extends IOException {
        private static final long serialVersionUID = 1L;

        NoSuchEventException(String message) {
            super(message);
        }
    }

    /**
     * Reads the stacks of {@code type}; with no type, of ebpf.CPUSample when the recording has
     * any, else of jdk.ExecutionSample (a plain JVM recording). A type the recording has no
     * stacks of is an IllegalArgumentException listing those it has.
     */
    static Stacks read(Path file, String type, PrintStream err) throws IOException {
        Map<String, FoldedStacks> byType = new LinkedHashMap<>();
        Map<String, EventWeight> weights = new LinkedHashMap<>();
        Map<String, Long> withStacks = new TreeMap<>();
        Progress progress = new Progress(err, file.getFileName().toString());
        try (RecordingFile in = new RecordingFile(file)) {
            while (in.hasMoreEvents()) {
                RecordedEvent e = in.readEvent();
                progress.tick();
                String name = e.getEventType().getName();
                if (e.getStackTrace() == null) {
                    continue;
                }
                withStacks.merge(name, 1L, Long::sum);
                boolean wanted = type == null ? name.equals(DEFAULT_EBPF) || name.equals(DEFAULT_JVM) : name.equals(type);
                if (wanted) {
                    EventWeight w = weights.computeIfAbsent(name, k -> EventWeight.of(e.getEventType()));
                    byType.computeIfAbsent(name, k -> new FoldedStacks()).add(e.getStackTrace(), w.of(e));
                }
            }
        }
        progress.done();
        String chosen = type != null ? type : byType.containsKey(DEFAULT_EBPF) ? DEFAULT_EBPF : DEFAULT_JVM;
        FoldedStacks folded = byType.get(chosen);
        if (folded == null || folded.isEmpty()) {
            StringBuilder have = new StringBuilder();
            withStacks.forEach((t, n) -> have.append(String.format("%n  %-32s %,d", t, n)));
            throw new NoSuchEventException(file + " has no " + (type != null ? type : DEFAULT_EBPF + " or " + DEFAULT_JVM)
                    + " events with stacks; event types with stacks in it:" + (have.length() == 0 ? " none" : have));
        }
        return new Stacks(chosen, weights.get(chosen), folded);
    }
}
