package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.Log;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
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

    private static final MethodHandle CALLBACK;

    static {
        try {
            CALLBACK = MethodHandles.lookup().findVirtual(RingBufferPoller.class, "onSample",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Arena arena = Arena.ofShared();
    private final List<RecordHandler> handlers = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final MemorySegment stub;
    private MemorySegment ring = MemorySegment.NULL;
    private long handlerErrors;
    private long records;

    public RingBufferPoller() {
        stub = LibBpf.LINKER.upcallStub(CALLBACK.bindTo(this),
                FunctionDescriptor.of(LibBpf.INT, LibBpf.PTR, LibBpf.PTR, LibBpf.LONG), arena);
    }

    /** Adds a ring buffer map (after its object is loaded). */
    public synchronized void add(BpfMap ringbuf, RecordHandler handler) throws BpfException {
        MemorySegment ctx = MemorySegment.ofAddress(handlers.size());
        handlers.add(handler);
        names.add(ringbuf.name());
        if (ring.address() == 0) {
            ring = LibBpf.checkedPtr("ring_buffer__new(" + ringbuf.name() + ")", LibBpf.RING_BUFFER_NEW,
                    ringbuf.fd(), stub, ctx, MemorySegment.NULL);
        } else {
            LibBpf.checkedInt("ring_buffer__add(" + ringbuf.name() + ")", LibBpf.RING_BUFFER_ADD, ring, ringbuf.fd(), stub, ctx);
        }
    }

    /**
     * Waits up to the timeout for a wake-up, then handles every record there is; returns how
     * many. The probes submit most records without a wake-up (common.bpf.h), and
     * {@code ring_buffer__poll} reads only the rings that signalled: the consume after it
     * reads the others.
     */
    public synchronized int poll(int timeoutMillis) throws BpfException {
        if (ring.address() == 0) {
            // no ring (every probe failed to attach): wait as a poll would, or the agent's loop spins a CPU
            try {
                Thread.sleep(timeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
        int n = LibBpf.ringBufferPoll(ring, timeoutMillis);
        if (n < 0 && n != -4) { // EINTR is a normal wake-up
            throw LibBpf.failure("ring_buffer__poll", -n);
        }
        return Math.max(n, 0) + consume();
    }

    /** Handles every record available now, without waiting. */
    public synchronized int consume() throws BpfException {
        if (ring.address() == 0) {
            return 0;
        }
        int n = LibBpf.ringBufferConsume(ring);
        if (n < 0) {
            throw LibBpf.failure("ring_buffer__consume", -n);
        }
        return n;
    }

    @SuppressWarnings("unused") // upcall from libbpf
    private int onSample(MemorySegment ctx, MemorySegment data, long size) {
        try {
            records++;
            handlers.get((int) ctx.address()).onRecord(data.reinterpret(size));
        } catch (Throwable t) {
            if (handlerErrors++ == 0) {
                try {
                    Log.warn("a record of %s could not be decoded (%s); further failures are only counted",
                            names.get((int) ctx.address()), t);
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
        if (ring.address() != 0) {
            LibBpf.call(LibBpf.RING_BUFFER_FREE, ring);
            ring = MemorySegment.NULL;
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
