package io.jfrebpf.agent;

import io.jfrebpf.agent.Options.ProbeName;
import io.jfrebpf.agent.jvm.ThreadRegistry;
import io.jfrebpf.agent.probe.BpfProbe;
import io.jfrebpf.agent.probe.Probe;
import io.jfrebpf.agent.probe.ProbeContext;
import io.jfrebpf.agent.probe.Probes;
import io.jfrebpf.agent.probe.Recorder;
import io.jfrebpf.events.ProbeStatusEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The probes a recording asked for and what became of each: attached (how, and when after the
 * JVM's start) or not (why); the attached ones are polled, finished and closed through here, and
 * each says at the end (and at each slice) how it did, as {@code ebpf.ProbeStatus}. Filled and
 * used on the agent's thread; the control API's callers read the states from theirs (guarded by
 * the map).
 */
final class ProbeStates {
    /** What became of one requested probe. */
    private static final class State {
        Probe probe;
        boolean attached;
        String reason;
        /** How long after the JVM's start it was attached (0: not attached, or unknown). */
        long attachedAfterNs;
    }

    private final Map<ProbeName, State> states = new LinkedHashMap<>();
    private final List<Probe> running = new ArrayList<>();

    /** Makes the probes asked for; false when none is available in this version (each missing one has its reason). */
    boolean create(Set<ProbeName> names) {
        List<String> missing = new ArrayList<>();
        boolean any = false;
        synchronized (states) {
            for (ProbeName name : names) {
                State state = new State();
                states.put(name, state);
                state.probe = Probes.create(name).orElse(null);
                if (state.probe == null) {
                    state.reason = "not available in this version of jfr-ebpf";
                    missing.add(name.key());
                }
                any |= state.probe != null;
            }
        }
        if (!missing.isEmpty()) {
            Log.info("probes not available in this version: %s", String.join(", ", missing));
        }
        return any;
    }

    /**
     * Starts each probe made with {@code context}, in order, except once {@code ending} (the
     * recording ended meanwhile); one warning per probe that did not attach. The keys of those that did.
     */
    List<String> attach(ProbeContext context, AtomicBoolean ending) {
        List<String> on = new ArrayList<>();
        for (Map.Entry<ProbeName, State> e : entries()) {
            State state = e.getValue();
            if (state.probe == null) {
                continue;
            }
            if (ending.get()) {
                state.reason = "the recording ended before it was attached (startup=wait makes main wait for the probes)";
                continue;
            }
            try {
                state.probe.start(context);
                synchronized (states) {
                    state.attached = true;
                    state.attachedAfterNs = sinceJvmStart();
                    state.reason = state.probe.attachedAs();
                }
                running.add(state.probe);
                on.add(e.getKey().key());
            } catch (Throwable t) {
                synchronized (states) {
                    state.reason = Failures.explain(t);
                }
                Log.warn("probe %s not attached: %s", e.getKey().key(), state.reason);
                state.probe.close();
            }
        }
        return on;
    }

    /** The probes asked for, in order, as they are now (a copy: the control API reads them from its thread). */
    private List<Map.Entry<ProbeName, State>> entries() {
        synchronized (states) {
            return new ArrayList<>(states.entrySet());
        }
    }

    /** Nanoseconds since this JVM's process started (its start time has the kernel's 10 ms resolution). */
    private static long sinceJvmStart() {
        Instant jvmStart = ProcessHandle.current().info().startInstant().orElse(null);
        if (jvmStart == null) {
            return 0;
        }
        return Math.max(0, java.time.Duration.between(jvmStart, Instant.now()).toNanos());
    }

    /** The attached probes, in order (for the poller thread, and the end once it has stopped). */
    List<Probe> running() {
        return running;
    }

    /** Each probe asked for: "attached: how" or "not attached: why", in order. */
    Map<String, String> describe() {
        Map<String, String> described = new LinkedHashMap<>();
        synchronized (states) {
            for (Map.Entry<ProbeName, State> e : states.entrySet()) {
                State s = e.getValue();
                described.put(e.getKey().key(), (s.attached ? "attached: " : "not attached: ") + s.reason);
            }
        }
        return described;
    }

    /** The final statistics of each attached probe; a failure only logged. */
    void finish(long endNs) {
        for (Probe p : running) {
            try {
                p.finish(endNs);
            } catch (Throwable t) {
                Log.debug("probe %s: final statistics failed: %s", p.name(), t);
            }
        }
    }

    /** One {@code ebpf.ProbeStatus} per probe asked for, as it is at {@code nowNs}. */
    void writeStatus(Recorder recorder, ThreadRegistry threads, long nowNs) {
        for (Map.Entry<ProbeName, State> e : entries()) {
            State s = e.getValue();
            ProbeStatusEvent status = new ProbeStatusEvent();
            status.probe = e.getKey().key();
            status.attached = s.attached;
            // a probe that attaches as it finds its targets (postgres) says at the end what it found
            status.reason = s.probe != null && s.attached ? s.probe.attachedAs() : s.reason;
            status.events = s.probe != null ? s.probe.events() : 0;
            status.lost = s.probe != null && s.attached ? s.probe.lost() : 0;
            status.attachedAfter = s.attached ? Math.max(0, s.attachedAfterNs) : 0;
            status.virtualThreads = s.attached && s.probe instanceof BpfProbe && threads != null ? threads.mountedThreads().describe() : null;
            recorder.emit(status, nowNs, 0);
        }
    }

    /** Events the attached probes lost (their ring buffers were full). */
    long lost() {
        long lost = 0;
        for (Probe p : running) {
            lost += p.lost();
        }
        return lost;
    }

    /** Detaches and closes the attached probes, waiting at most {@code timeoutMillis} for them together. */
    void closeAll(long timeoutMillis) {
        Probes.closeAll(running, timeoutMillis);
    }
}
