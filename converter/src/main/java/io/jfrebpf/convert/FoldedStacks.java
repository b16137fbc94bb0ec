package io.jfrebpf.convert;

import io.jfrebpf.events.read.FrameNames;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;

/**
 * Stacks folded into lines, root first ({@code a;b;c 42}), with the frame-type suffixes
 * async-profiler's flame graph colours by: {@code _[0]} interpreted, {@code _[j]} JIT compiled,
 * {@code _[i]} inlined, {@code _[1]} C1 compiled, {@code _[k]} kernel; native frames carry
 * none. Weights add up per distinct stack.
 */
public final class FoldedStacks {
    private final Map<String, Long> weights = new HashMap<>();
    private long total;
    private long stacks;

    public void add(RecordedStackTrace stack, long weight) {
        if (stack == null || weight <= 0) {
            return;
        }
        weights.merge(fold(stack), weight, Long::sum);
        total += weight;
        stacks++;
    }

    /** Adds an already folded line's weight (from another FoldedStacks or a file). */
    public void add(String folded, long weight) {
        weights.merge(folded, weight, Long::sum);
        total += weight;
        stacks++;
    }

    public Map<String, Long> weights() {
        return weights;
    }

    public long total() {
        return total;
    }

    /** Events added (not distinct stacks). */
    public long events() {
        return stacks;
    }

    public boolean isEmpty() {
        return weights.isEmpty();
    }

    /** The same stacks with weights scaled so that they add up to {@code total}: recordings of different lengths compare. */
    public FoldedStacks scaledTo(long total) {
        FoldedStacks scaled = new FoldedStacks();
        if (this.total == 0) {
            return scaled;
        }
        double factor = total / (double) this.total;
        weights.forEach((stack, w) -> {
            long v = Math.round(w * factor);
            if (v > 0) {
                scaled.add(stack, v);
            }
        });
        return scaled;
    }

    /** The lines of the folded format, heaviest first. */
    public String text() {
        StringBuilder b = new StringBuilder();
        weights.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> b.append(e.getKey()).append(' ').append(e.getValue()).append('\n'));
        return b.toString();
    }

    static String fold(RecordedStackTrace stack) {
        List<RecordedFrame> frames = stack.getFrames();
        StringBuilder b = new StringBuilder();
        for (int i = frames.size() - 1; i >= 0; i--) {
            if (b.length() > 0) {
                b.append(';');
            }
            b.append(frameName(frames.get(i)));
        }
        if (stack.isTruncated()) {
            b.insert(0, "[truncated];");
        }
        return b.toString();
    }

    /** A frame as the flame graph shows it ({@link FrameNames#flameGraph}), made safe for the folded format. */
    static String frameName(RecordedFrame f) {
        RecordedMethod m = f.getMethod();
        return clean(FrameNames.flameGraph(f.getType(), m == null || m.getType() == null ? null : m.getType().getName(),
                m == null ? null : m.getName()));
    }

    /** The folded format separates frames by ';' and ends a line with ' weight': neither may appear in a name. */
    static String clean(String name) {
        return name.replace(';', ':').replace('\n', ' ');
    }
}
