package io.jfrebpf.agent.upload;

import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.read.FrameTypes;
import io.jfrebpf.events.read.pprof.ProfileKind;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The events of the current upload period, added up per kind and stack as the poller writes them
 * (the live data: no file is read, no slice is cut). Bounded: at most {@link #MAX_STACKS}
 * different stacks a period; past that, an event whose stack is not there yet counts under one
 * placeholder frame, its value kept. {@link #take} hands the period over and starts the next.
 */
final class LiveProfiles {
    static final int MAX_STACKS = 8_192;
    /** Where the events of a period with too many stacks go. */
    static final JfrStack FOLDED = new JfrStack(List.of(new JfrFrame("", "[jfr-ebpf: more than " + MAX_STACKS
            + " stacks in this period]", "", -1, -1, FrameTypes.NATIVE)), false);

    /** One period's sums, by kind and stack. */
    record Period(Instant from, Instant until, Map<ProfileKind, Map<JfrStack, long[]>> stacks) {
        boolean isEmpty() {
            return stacks.isEmpty();
        }
    }

    private Map<ProfileKind, Map<JfrStack, long[]>> current = new EnumMap<>(ProfileKind.class);
    private Instant since;
    private int stacks;
    private long folded;

    LiveProfiles(Instant start) {
        this.since = start;
    }

    /** On the poller thread, for each event with a stack. */
    synchronized void add(EbpfEvent event, long durationNs, JfrStack stack) {
        ProfileKind kind = ProfileKind.of(event);
        if (kind == null) {
            return;
        }
        Map<JfrStack, long[]> byStack = current.computeIfAbsent(kind, k -> new HashMap<>());
        long[] values = byStack.get(stack);
        if (values == null) {
            JfrStack key = stack;
            if (stacks >= MAX_STACKS) {
                key = FOLDED;
                folded++;
                values = byStack.get(FOLDED);
            }
            if (values == null) {
                values = new long[kind.sampleTypes.size()];
                byStack.put(key, values);
                stacks++;
            }
        }
        kind.add(event, durationNs, values);
    }

    /** The period up to {@code now}; the next one starts empty. */
    synchronized Period take(Instant now) {
        Period p = new Period(since, now, current);
        current = new EnumMap<>(ProfileKind.class);
        since = now;
        stacks = 0;
        return p;
    }

    /** Events counted under {@link #FOLDED} so far, in all periods. */
    synchronized long folded() {
        return folded;
    }
}
