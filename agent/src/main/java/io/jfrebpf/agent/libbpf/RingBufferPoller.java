package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.Native;
import io.jfrebpf.agent.os.NativeFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

/**
 * One libbpf {@code ring_buffer} over the {@code events} ring buffers of every probe, drained by
 * one thread (the agent's poller). Each record reaches its probe's handler as a segment valid
 * only during the call. A handler's exception is counted and logged once; it never reaches the
 * native caller (an exception in an upcall would kill the JVM).
 */
public final class RingBufferPoller implements AutoCloseable {
    /** Decodes one record; the segment is valid only during the call. */
    @FunctionalInterface
    public interface RecordHandler {
        void onRecord(MemorySegment record);
    }

    private static final NativeFunction NEW = LibBpf.function("ring_buffer__new");
    private static final NativeFunction ADD = LibBpf.function("ring_buffer__add");
    private static final NativeFunction POLL = LibBpf.function("ring_buffer__poll");
    private static final NativeFunction CONSUME = LibBpf.function("ring_buffer__consume");
    private static final NativeFunction FREE = LibBpf.function("ring_buffer__free");
    private static final MethodHandle ON_SAMPLE;

    static {
        try {
            ON_SAMPLE = MethodHandles.lookup().findVirtual(RingBufferPoller.class, "onSample",
                    MethodType.methodType(int.class, long.class, long.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Arena arena = Arena.ofShared();
    private final List<RecordHandler> handlers = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    /** int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size), made with the first ring. */
    private MemorySegment stub;
    /** struct ring_buffer *, 0 until the first ring is added. */
    private long ring;
    private long handlerErrors;
    private long records;

    /** Adds a ring buffer map (after its object is loaded). */
    public synchronized void add(BpfMap ringbuf, RecordHandler handler) throws BpfException {
        if (stub == null) {
            stub = Native.upcall(ON_SAMPLE.bindTo(this), arena);
        }
        long ctx = handlers.size(); // the handler's index, handed back with each of its records
        handlers.add(handler);
        names.add(ringbuf.name());
        if (ring == 0) {
            ring = LibBpf.checkedPtr("ring_buffer__new(" + ringbuf.name() + ")", NEW.call(ringbuf.fd(), stub.address(), ctx, 0));
        } else {
            LibBpf.checkedInt("ring_buffer__add(" + ringbuf.name() + ")", ADD.call(ring, ringbuf.fd(), stub.address(), ctx));
        }
    }

    /**
     * Waits up to the timeout for a wake-up, then handles every record there is; returns how
     * many. The probes submit most records without a wake-up (common.bpf.h), and
     * {@code ring_buffer__poll} reads only the rings that signalled: the consume after it
     * reads the others.
     */
    public synchronized int poll(int timeoutMillis) throws BpfException {
        if (ring == 0) {
            // no ring (every probe failed to attach): wait as a poll would, or the agent's loop spins a CPU
            try {
                Thread.sleep(timeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
        int n = (int) POLL.call(ring, timeoutMillis);
        if (n < 0 && n != -4) { // EINTR is a normal wake-up
            throw LibBpf.failure("ring_buffer__poll", -n);
        }
        return Math.max(n, 0) + consume();
    }

    /** Handles every record available now, without waiting. */
    public synchronized int consume() throws BpfException {
        if (ring == 0) {
            return 0;
        }
        int n = (int) CONSUME.call(ring);
        if (n < 0) {
            throw LibBpf.failure("ring_buffer__consume", -n);
        }
        return n;
    }

    @SuppressWarnings("unused") // upcall from libbpf, on the thread in poll or consume
    private int onSample(long ctx, long data, long size) {
        try {
            records++;
            handlers.get((int) ctx).onRecord(Native.segment(data, size));
        } catch (Throwable t) {
            if (handlerErrors++ == 0) {
                try {
                    Log.warn("a record of %s could not be decoded (%s); further failures are only counted",
                            names.get((int) ctx), t);
                } catch (Throwable ignored) {
                    // nothing may escape an upcall
                }
            }
        }
        return 0;
    }

    public long handlerErrors() {
        return handlerErrors;
    }

    public long records() {
        return records;
    }

    @Override
    public synchronized void close() {
        if (ring != 0) {
            FREE.call(ring);
            ring = 0;
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
