package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.jfr.ChunkWriter;
import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.agent.jfr.JfrThread;
import io.jfrebpf.agent.jvm.ThreadRegistry;
import io.jfrebpf.agent.stack.Symbolizer;
import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.OnCarrier;

/**
 * Where probes put their events: resolves the OS thread to its Java thread and writes the
 * event into our JFR chunk. Used on the agent's poller thread only. A write failure (disk full)
 * is logged once; from then on events are counted as dropped, never thrown at a probe.
 */
public final class Recorder {
    private final ChunkWriter writer;
    private final ThreadRegistry threads;
    /** Null when events get no stacks (no probe runs, or the stacks could not start). */
    private final Symbolizer symbolizer;
    /** Null when none; dropped after it failed. */
    private Tap tap;
    private long written;
    private long dropped;
    private boolean failed;

    /**
     * Sees every event with a stack as it is written (on the poller thread): the live profiles of
     * {@code upload=}. It must be quick and must not block; what it throws is logged once and it
     * is called no more.
     */
    public interface Tap {
        void recorded(EbpfEvent event, long durationNs, JfrStack stack);
    }

    /**
     * Events get the stacks their records carry from {@code symbolizer} (null: no stacks), and
     * each event with a stack is also shown to {@code tap} (null: none).
     */
    public Recorder(ChunkWriter writer, ThreadRegistry threads, Symbolizer symbolizer, Tap tap) {
        this.writer = writer;
        this.threads = threads;
        this.symbolizer = symbolizer;
        this.tap = tap;
    }

    /** An event that happened on the thread of {@code header}, at its time, with its stack. */
    public boolean emit(EbpfEvent event, EventHeader header) {
        JfrThread thread = thread(event, header);
        JfrStack stack = symbolizer == null ? null : symbolizer.stack(header.userStack(), header.kernelStackId());
        return write(event, header.timestampNs(), header.durationNs(), thread, stack);
    }

    /** The same, with the kernel frames the record carried itself (innermost first). */
    public boolean emit(EbpfEvent event, EventHeader header, long[] kernelPcs) {
        JfrThread thread = thread(event, header);
        JfrStack stack = symbolizer == null ? null : symbolizer.stack(header.userStack(), kernelPcs);
        return write(event, header.timestampNs(), header.durationNs(), thread, stack);
    }

    /**
     * An event of a virtual thread while it was not mounted (its wait between an unmount and the
     * next mount, seen ending on the carrier that mounts it: {@code header.tid}): on the virtual
     * thread, with no carrier named.
     */
    public boolean emitUnmounted(EbpfEvent event, EventHeader header) {
        JfrThread thread = threads.mounted(threads.resolve(header.tid(), header.comm(), header.timestampNs()), header.javaThreadId());
        JfrStack stack = symbolizer == null ? null : symbolizer.stack(header.userStack(), header.kernelStackId());
        return write(event, header.timestampNs(), header.durationNs(), thread, stack);
    }

    /**
     * The Java thread and stack of a record, resolved now: for an event written later about the
     * same moment (a connection's close reports where it was opened), when the thread may have
     * ended and its stack may have left the kernel's map by then.
     */
    public Origin origin(EventHeader header) {
        return new Origin(thread(null, header), symbolizer == null ? null : symbolizer.stack(header.userStack(), header.kernelStackId()));
    }

    /**
     * The Java thread of a record: the virtual thread that was mounted on its OS thread, if one
     * was (an event about the OS thread's time then names the carrier in its own field), else
     * the OS thread's.
     */
    private JfrThread thread(EbpfEvent event, EventHeader header) {
        JfrThread os = threads.resolve(header.tid(), header.comm(), header.timestampNs());
        JfrThread thread = threads.mounted(os, header.javaThreadId());
        if (thread != os && event instanceof OnCarrier c) {
            c.carrierThread(os.javaName());
        }
        return thread;
    }

    /** A thread and stack resolved earlier. */
    public record Origin(JfrThread thread, JfrStack stack) {
    }

    /** An event that happened on an origin resolved earlier. */
    public boolean emit(EbpfEvent event, long startNs, long durationNs, Origin origin) {
        return write(event, startNs, durationNs, origin.thread(), origin.stack());
    }

    /** An event of the process as a whole (statistics, status): no thread. */
    public boolean emit(EbpfEvent event, long startNs, long durationNs) {
        return write(event, startNs, durationNs, null, null);
    }

    private boolean write(EbpfEvent event, long startNs, long durationNs, JfrThread thread, JfrStack stack) {
        if (failed) {
            dropped++;
            return false;
        }
        try {
            if (!writer.write(event, startNs, durationNs, thread, stack)) {
                dropped++; // the disk did not keep up
                return false;
            }
            written++;
        } catch (Exception | OutOfMemoryError e) {
            failed = true;
            dropped++;
            Log.error("cannot write events to the recording (%s); further events are dropped and counted", e);
            return false;
        }
        Tap t = tap;
        if (t != null && stack != null) {
            try {
                t.recorded(event, durationNs, stack);
            } catch (RuntimeException | Error e) {
                tap = null;
                Log.error("the live profiles for upload= stopped (%s); the recording goes on", e);
            }
        }
        return true;
    }

    public long written() {
        return written;
    }

    public long dropped() {
        return dropped;
    }

    public ThreadRegistry threads() {
        return threads;
    }
}
