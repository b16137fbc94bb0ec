package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.Native;
import io.jfrebpf.agent.os.NativeFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code events} ring buffers of every probe, mapped into this process and drained in place
 * by one thread (the agent's poller), with one epoll set for their wake-ups. Each record reaches
 * its probe's handler as a segment valid only during the call. A handler's exception is counted
 * and logged once; the record counts as handled and the drain goes on.
 *
 * <p>Read here, not through libbpf's {@code ring_buffer__poll}: that calls back into Java for
 * every record, an upcall each, and the JVM's C2 compiled the upcall's method handle with the
 * agent's whole record path inlined into it (one compilation of ~140 ms on the benchmark's
 * service loop). A plain loop over the mapped ring ({@link RingBuffer}) needs neither.
 */
public final class RingBufferPoller implements AutoCloseable {
    /** Decodes one record; the segment is valid only during the call. */
    @FunctionalInterface
    public interface RecordHandler {
        void onRecord(MemorySegment record);
    }

    private static final NativeFunction MMAP = NativeFunction.libc("mmap");
    private static final NativeFunction MUNMAP = NativeFunction.libc("munmap");
    private static final NativeFunction EPOLL_CREATE1 = NativeFunction.libc("epoll_create1");
    private static final NativeFunction EPOLL_CTL = NativeFunction.libc("epoll_ctl");
    private static final NativeFunction EPOLL_WAIT = NativeFunction.libc("epoll_wait");
    private static final NativeFunction SYSCONF = NativeFunction.libc("sysconf");
    private static final int SC_PAGESIZE = 30;
    private static final long PAGE_BYTES = SYSCONF.call(SC_PAGESIZE);
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;
    private static final long MAP_FAILED = -1;
    private static final int EPOLL_CLOEXEC = 02000000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLLIN = 1;
    private static final int EINTR = 4;
    /** Room for this many epoll events (16 bytes each covers x86-64's packed 12 and AArch64's 16). */
    private static final int EVENTS = 16;
    private static final int EVENT_BYTES = 16;

    private final Arena arena = Arena.ofShared();
    private final List<RingBuffer> rings = new ArrayList<>();
    private final List<Mapping> mappings = new ArrayList<>();
    private MemorySegment events;
    private int epoll = -1;
    private long handlerErrors;

    /** Maps a ring buffer map (after its object is loaded) and adds it to the epoll set. */
    public synchronized void add(BpfMap ringbuf, RecordHandler handler) throws BpfException {
        String name = ringbuf.name();
        if (epoll < 0) {
            int fd = (int) EPOLL_CREATE1.call(EPOLL_CLOEXEC);
            if (fd < 0) {
                throw LibBpf.failure("epoll_create1", Native.errno());
            }
            epoll = fd;
            events = arena.allocate((long) EVENTS * EVENT_BYTES, 8);
        }
        int fd = ringbuf.fd();
        long size = Integer.toUnsignedLong(ringbuf.maxEntries());
        long consumerAt = MMAP.call(0, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (consumerAt == MAP_FAILED) {
            throw LibBpf.failure("mmap(" + name + ", consumer page)", Native.errno());
        }
        long producerBytes = PAGE_BYTES + 2 * size;
        long producerAt = MMAP.call(0, producerBytes, PROT_READ, MAP_SHARED, fd, PAGE_BYTES);
        if (producerAt == MAP_FAILED) {
            int errno = Native.errno();
            MUNMAP.call(consumerAt, PAGE_BYTES);
            throw LibBpf.failure("mmap(" + name + ", " + producerBytes + " bytes of data)", errno);
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment event = call.allocate(EVENT_BYTES, 8);
            event.set(ValueLayout.JAVA_INT, 0, EPOLLIN);
            if ((int) EPOLL_CTL.call(epoll, EPOLL_CTL_ADD, fd, event.address()) < 0) {
                int errno = Native.errno();
                MUNMAP.call(producerAt, producerBytes);
                MUNMAP.call(consumerAt, PAGE_BYTES);
                throw LibBpf.failure("epoll_ctl(" + name + ")", errno);
            }
        }
        mappings.add(new Mapping(consumerAt, PAGE_BYTES));
        mappings.add(new Mapping(producerAt, producerBytes));
        rings.add(new RingBuffer(name, Native.segment(consumerAt, 8), Native.segment(producerAt, 8),
                Native.segment(producerAt + PAGE_BYTES, 2 * size), size, new Guarded(name, handler)));
    }

    /**
     * Waits up to the timeout for a wake-up, then handles every record there is in every ring;
     * returns how many. The probes submit most records without a wake-up (common.bpf.h): the
     * rings are read after the timeout as after a wake-up.
     */
    public synchronized int poll(int timeoutMillis) throws BpfException {
        if (rings.isEmpty()) {
            // no ring (every probe failed to attach): wait as a poll would, or the agent's loop spins a CPU
            try {
                Thread.sleep(timeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
        int n = (int) EPOLL_WAIT.call(epoll, events.address(), EVENTS, timeoutMillis);
        if (n < 0) {
            int errno = Native.errno();
            if (errno != EINTR) { // a signal is a normal wake-up
                throw LibBpf.failure("epoll_wait", errno);
            }
        }
        return consume();
    }

    /** Handles every record available now, without waiting. */
    public synchronized int consume() {
        int n = 0;
        for (int i = 0; i < rings.size(); i++) {
            n += rings.get(i).drain();
        }
        return n;
    }

    /** One mmap of a ring's pages, unmapped at close. */
    private record Mapping(long address, long bytes) {
    }

    /** A probe's handler, whose failures are counted and logged once rather than stopping the drain. */
    private final class Guarded implements RecordHandler {
        private final String ring;
        private final RecordHandler handler;

        Guarded(String ring, RecordHandler handler) {
            this.ring = ring;
            this.handler = handler;
        }

        @Override
        public void onRecord(MemorySegment record) {
            try {
                handler.onRecord(record);
            } catch (Throwable t) {
                if (handlerErrors++ == 0) {
                    Log.warn("a record of %s could not be decoded (%s); further failures are only counted", ring, t);
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        rings.clear();
        for (Mapping m : mappings) {
            MUNMAP.call(m.address(), m.bytes());
        }
        mappings.clear();
        if (epoll >= 0) {
            LibBpf.closeFd(epoll);
            epoll = -1;
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
