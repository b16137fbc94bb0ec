package io.jfrebpf.agent.jfr;

import io.jfrebpf.agent.Log;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.EventStream;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedThread;

/**
 * The Java threads the JVM's own recording saw start or end ({@code jdk.ThreadStart},
 * {@code jdk.ThreadEnd}, both on in JFR's default and profile settings), by OS thread id. The
 * poller sees a thread's first event a few milliseconds late (the ring buffer's wake-up waits for
 * a timer tick); a Java thread that ends sooner cannot be looked up live, but the JVM wrote down
 * who it was.
 */
public final class JvmThreadStarts {
    private JvmThreadStarts() {
    }

    /** The Java identity of each of {@code osThreadIds} that the recording at {@code jvmRecording} names. */
    public static Map<Long, JfrThread> find(Path jvmRecording, Set<Long> osThreadIds) {
        Map<Long, JfrThread> found = new HashMap<>();
        if (jvmRecording == null || osThreadIds.isEmpty()) {
            return found;
        }
        try (EventStream stream = EventStream.openFile(jvmRecording)) {
            stream.onEvent("jdk.ThreadStart", e -> learn(e, osThreadIds, found));
            stream.onEvent("jdk.ThreadEnd", e -> learn(e, osThreadIds, found));
            stream.start();
        } catch (IOException | RuntimeException e) {
            Log.debug("threads: cannot read thread starts from %s: %s", jvmRecording, e);
        }
        return found;
    }

    /**
     * The names of the virtual threads with these Java ids that the recording at
     * {@code jvmRecording} names: the JVM writes each virtual thread it saw (the agent turns on
     * {@code jdk.VirtualThreadEnd}, committed on the ending thread; {@code jdk.VirtualThreadStart}
     * and {@code jdk.VirtualThreadPinned} name theirs too).
     */
    public static Map<Long, JfrThread> findVirtual(Path jvmRecording, Set<Long> javaThreadIds) {
        Map<Long, JfrThread> found = new HashMap<>();
        if (jvmRecording == null || javaThreadIds.isEmpty()) {
            return found;
        }
        try (EventStream stream = EventStream.openFile(jvmRecording)) {
            for (String type : VIRTUAL_THREAD_EVENTS) {
                stream.onEvent(type, e -> learnVirtual(e.getThread(), javaThreadIds, found));
            }
            stream.start();
        } catch (IOException | RuntimeException e) {
            Log.debug("threads: cannot read virtual threads from %s: %s", jvmRecording, e);
        }
        return found;
    }

    /** The JVM's events committed on a virtual thread that the agent's recording has on. */
    public static final List<String> VIRTUAL_THREAD_EVENTS = List.of("jdk.VirtualThreadEnd", "jdk.VirtualThreadStart",
            "jdk.VirtualThreadPinned");

    private static void learnVirtual(RecordedThread t, Set<Long> wanted, Map<Long, JfrThread> found) {
        if (t == null || !t.isVirtual() || t.getJavaName() == null || !wanted.contains(t.getJavaThreadId())) {
            return;
        }
        JfrThread before = found.get(t.getJavaThreadId());
        if (before == null || before.javaName().isEmpty()) { // a name set after the thread started is its later events'
            found.put(t.getJavaThreadId(), new JfrThread(0, null, t.getJavaThreadId(), t.getJavaName(), true));
        }
    }

    private static void learn(RecordedEvent e, Set<Long> wanted, Map<Long, JfrThread> found) {
        if (!e.hasField("thread")) {
            return;
        }
        RecordedThread t = e.getThread("thread");
        if (t == null || t.getJavaName() == null || !wanted.contains(t.getOSThreadId())) {
            return;
        }
        // tids are reused: keep the last thread by that id, as the events are read in time order
        found.put(t.getOSThreadId(), new JfrThread(t.getOSThreadId(), t.getOSName() != null ? t.getOSName() : t.getJavaName(),
                t.getJavaThreadId(), t.getJavaName(), false));
    }
}
