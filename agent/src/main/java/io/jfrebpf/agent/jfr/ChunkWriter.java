package io.jfrebpf.agent.jfr;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.jfr.ChunkOutput.Block;
import io.jfrebpf.agent.jfr.Metadata.EventType;
import io.jfrebpf.events.EbpfEvent;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Writes our events as JFR chunk files, streaming: each event is encoded when it is written,
 * into a bounded block of bytes, not kept as an object; full blocks go to the writer thread
 * ({@link ChunkOutput}, {@value #WRITER_THREAD}), which appends them to the current chunk's
 * file. The constant pools the events refer to (threads, stack traces, methods, classes, frame
 * types, strings: {@link ChunkPools}) and the metadata ({@link Metadata}: the catalog classes
 * of {@code jfr-events}, read once) are written when the chunk closes: at about
 * {@link #CHUNK_BYTES} of events and pools, and at {@link #flushAndWait()},
 * {@link #takeChunks()} and {@link #close()}. One thread calls every method here (the poller;
 * the agent's thread once the poller has ended).
 *
 * <p>Times: callers give CLOCK_MONOTONIC ns (the clock of bpf_ktime_get_ns); events carry them
 * in the JVM's JFR ticks ({@link JvmTicks}). A chunk covers the time in which it was written,
 * as the JVM's chunks do (an event can have started before): from the end of the chunk before
 * (or the writer's start) to the moment it was cut, or for the last one, closed, to its last
 * event; so the chunks of a writer are in order, back to back and never overlap. Its header
 * maps ticks to wall-clock time through a pair of clock readings taken together when it began.
 *
 * <p>Memory is bounded: {@link #BLOCKS} blocks of events in flight and two sets of pools (the
 * writer thread writes one while events fill the other). When the disk does not keep up and no
 * block comes back within {@link #FULL_WAIT_MS} ms, events are dropped and counted
 * ({@link #write} returns false) until one does; the wait is not repeated meanwhile, so the
 * poller goes on draining the kernel's ring buffers.
 */
public final class ChunkWriter implements AutoCloseable {
    static final String WRITER_THREAD = "jfr-ebpf-writer";
    /** A chunk closes when its events and (estimated) pools reach this. */
    static final long CHUNK_BYTES = 8L << 20;
    static final int BLOCK_BYTES = 128 * 1024;
    /** A block goes to the writer thread once this full (an event rarely takes more than the rest). */
    static final int BLOCK_SEND_BYTES = BLOCK_BYTES - 8 * 1024;
    static final int BLOCKS = 8;
    static final long FULL_WAIT_MS = 100;
    static final long CLOSE_TIMEOUT_MS = 60_000;

    private final Path base;
    private final JvmTicks ticks;
    private final Metadata metadata;
    private final long chunkBytes;
    private final ArrayBlockingQueue<Block> queue = new ArrayBlockingQueue<>(BLOCKS + 16);
    private final ArrayBlockingQueue<Block> freeBlocks = new ArrayBlockingQueue<>(BLOCKS);
    private final ArrayBlockingQueue<ChunkPools> freePools = new ArrayBlockingQueue<>(2);
    private final ChunkOutput output;
    private final Thread writerThread;
    private final int writerTid;
    private final List<Path> chunks = new ArrayList<>();
    private int blocksAllocated;
    private int poolsAllocated;
    private Block block;
    private boolean overflowing;
    private boolean poolsLate;
    private long dropped;
    private int chunksWritten;
    private EventType lastType;
    private boolean closed;

    // the chunk being filled
    private int chunkIndex;
    private Path file;
    private ChunkPools pools;
    private long chunkEventBytes;
    private long chunkEvents;
    private long startMonotonic;
    private long startEpochNanos;
    private long lastWrite;

    /**
     * {@code hostTid}: the calling thread's id as the probes compare it (the host's, in a pid
     * namespace of the JVM's own); the writer thread asks it once, for {@link #writerTid()}.
     */
    public ChunkWriter(Path file, List<Class<? extends EbpfEvent>> eventTypes, JvmTicks ticks, IntSupplier hostTid)
            throws IOException {
        this(file, eventTypes, ticks, hostTid, CHUNK_BYTES);
    }

    ChunkWriter(Path file, List<Class<? extends EbpfEvent>> eventTypes, JvmTicks ticks, IntSupplier hostTid, long chunkBytes)
            throws IOException {
        this.base = file;
        this.ticks = ticks;
        this.chunkBytes = chunkBytes;
        this.metadata = Metadata.of(eventTypes); // fails now, not on the writer thread, if a catalog class cannot be written
        this.pools = new ChunkPools();
        this.poolsAllocated = 1;
        this.file = chunkFile(0);
        long[] clock = clockPair();
        startMonotonic = clock[0];
        startEpochNanos = clock[1];
        output = new ChunkOutput(queue, freeBlocks, freePools, metadata, hostTid);
        writerThread = new Thread(output, WRITER_THREAD);
        writerThread.setDaemon(true); // never holds the JVM's exit
        writerThread.start();
        int tid;
        try {
            tid = output.tid();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            tid = 0;
        }
        writerTid = tid;
    }

    /** The OS thread that writes chunk files (so the probes can leave its I/O out). */
    public int writerTid() {
        return writerTid;
    }

    /**
     * Writes one event that began at {@code startNanos} (CLOCK_MONOTONIC); thread and stack may
     * be null. False when it was dropped because the disk does not keep up (counted).
     */
    public boolean write(EbpfEvent event, long startNanos, long durationNanos, JfrThread thread, JfrStack stack)
            throws IOException {
        if (closed) {
            throw new IOException(new StringBuilder("chunk writer for ").append(base).append(" is closed").toString());
        }
        IOException f = output.failure();
        if (f != null) {
            throw f;
        }
        EventType type = lastType;
        if (type == null || type.javaClass != event.getClass()) {
            type = metadata.type(event.getClass());
            if (type == null) {
                throw new IllegalArgumentException(event.getClass().getName().concat(" is not a registered event type"));
            }
            lastType = type;
        }
        if (block == null && !takeBlock()) {
            dropped++;
            return false;
        }
        long threadKey = thread == null ? 0 : pools.thread(thread);
        long stackKey = stack == null || !type.withStack ? 0 : pools.stack(stack);
        EventEncoder out = block.bytes;
        int before = out.size();
        out.beginEvent(type.id);
        try {
            // fields in the order Metadata gave them to the type
            out.varLong(ticks.ticks(startNanos));
            out.varLong(durationNanos);
            out.varLong(threadKey);
            if (type.withStack) {
                out.varLong(stackKey);
            }
            CatalogFields.encode(type.encoder, event, out, pools);
            out.endEvent();
        } catch (RuntimeException e) {
            out.abandonEvent();
            throw new IOException(new StringBuilder("cannot encode ").append(event.getClass().getSimpleName()).append(": ")
                    .append(e).toString(), e);
        }
        chunkEventBytes += out.size() - before;
        chunkEvents++;
        lastWrite = System.nanoTime();
        if (out.size() >= BLOCK_SEND_BYTES) {
            sendBlock();
        }
        if (chunkEventBytes + pools.weight() >= chunkBytes) {
            cut(false);
        }
        return true;
    }

    /** Events dropped because the disk did not keep up. */
    public long dropped() {
        return dropped;
    }

    /**
     * Closes the chunk being written now (if it has events), waits until every chunk so far is
     * on disk, and returns them (for a dump of the recording so far; they stay part of the final
     * one).
     */
    public List<Path> flushAndWait() throws IOException {
        if (closed) {
            throw new IOException(new StringBuilder("chunk writer for ").append(base).append(" is closed").toString());
        }
        cut(true);
        Block sync = new Block(Block.SYNC, null);
        sync.done = new CountDownLatch(1);
        send(sync);
        try {
            if (!sync.done.await(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                throw new IOException(new StringBuilder("chunk files not written within ").append(CLOSE_TIMEOUT_MS)
                        .append(" ms").toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing chunk files");
        }
        IOException f = output.failure();
        if (f != null) {
            throw f;
        }
        return List.copyOf(chunks);
    }

    /**
     * Like {@link #flushAndWait()}, and hands the chunks over: the next ones belong to the next
     * slice (interval=), the caller now owns these files.
     */
    public List<Path> takeChunks() throws IOException {
        boolean cut = chunkEvents > 0;
        List<Path> written = flushAndWait();
        chunks.clear();
        if (!cut) {
            // nothing was written since: the next slice's chunk begins now, in that slice
            long[] clock = clockPair();
            startMonotonic = clock[0];
            startEpochNanos = Math.max(clock[1], startEpochNanos);
        }
        return written;
    }

    /**
     * Gives the events of some OS threads in the chunk being filled another thread, e.g. the
     * Java thread the JVM's recording says an ended tid was. Call before {@link #close()}. Only
     * that chunk: one already cut (at its size bound, {@link #flushAndWait()} or
     * {@link #takeChunks()}) has its pools queued for or written to disk, even if not yet on
     * it, and keeps its threads as they were.
     */
    public void relabel(Map<Long, JfrThread> byOsThreadId) {
        if (!byOsThreadId.isEmpty()) {
            pools.relabel(byOsThreadId);
        }
    }

    /**
     * Names the events of virtual threads in the chunk being filled that were written unnamed
     * (the thread had ended before the agent could read its name) as the map names them, by Java
     * thread id; like {@link #relabel}, only that chunk. Call before {@link #close()}.
     */
    public void relabelVirtual(Map<Long, JfrThread> byJavaThreadId) {
        if (!byJavaThreadId.isEmpty()) {
            pools.relabelVirtual(byJavaThreadId);
        }
    }

    /** The chunk files, in order; complete after {@link #close()}. */
    public List<Path> chunks() {
        return List.copyOf(chunks);
    }

    /** Closes the chunk being written and waits for every chunk file to be complete. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (chunkEvents > 0) {
                // no chunk follows: this one ends with its last event (the agent's stop, after, is not recording time)
                long[] end = {lastWrite, startEpochNanos + (lastWrite - startMonotonic)};
                finishChunk(end);
            }
        } finally {
            Block stop = new Block(Block.STOP, null);
            if (!queue.offer(stop)) {
                Log.debug("chunk writer: the writer thread's queue is full at close");
            }
        }
        try {
            writerThread.join(CLOSE_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing chunk files");
        }
        if (writerThread.isAlive()) {
            throw new IOException(new StringBuilder("chunk files not written within ").append(CLOSE_TIMEOUT_MS)
                    .append(" ms").toString());
        }
        if (Log.isDebug()) {
            Log.debug("chunk writer: %d chunk files, %d events dropped; the writer thread used %d ms CPU", chunksWritten, dropped,
                    output.cpuNanos() / 1_000_000);
        }
        IOException f = output.failure();
        if (f != null) {
            throw f;
        }
    }

    /**
     * Ends the chunk being filled if it has events. It needs the other set of pools, which the
     * writer thread gives back once it has written the chunk before: at a bound this waits for
     * it {@link #FULL_WAIT_MS} ms at most, and not again until it came (the chunk goes on past
     * its bound meanwhile; when the disk is that slow, the event blocks do not come back
     * either, so events are dropped rather than pooled); when {@code force}d, up to
     * {@link #CLOSE_TIMEOUT_MS}.
     */
    private void cut(boolean force) throws IOException {
        if (chunkEvents == 0) {
            return;
        }
        ChunkPools next = freePools.poll();
        if (next == null && poolsAllocated < 2) {
            next = new ChunkPools();
            poolsAllocated++;
        }
        if (next == null && (force || !poolsLate)) {
            try {
                next = freePools.poll(force ? CLOSE_TIMEOUT_MS : FULL_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while writing chunk files");
            }
            if (next == null && force) {
                throw new IOException("the writer thread did not finish a chunk file in time");
            }
        }
        poolsLate = next == null;
        if (next == null) {
            return;
        }
        long[] clock = clockPair();
        long end = finishChunk(clock);
        chunkIndex++;
        file = chunkFile(chunkIndex);
        pools = next;
        pools.reset(chunkIndex & 1);
        chunkEventBytes = 0;
        chunkEvents = 0;
        startMonotonic = clock[0];
        startEpochNanos = end;
    }

    /** Sends the chunk's last events and its end to the writer thread; returns where it ends (epoch ns). */
    private long finishChunk(long[] clock) throws IOException {
        if (block != null && !block.bytes.isEmpty()) {
            sendBlock();
        }
        long end = Math.max(clock[1], startEpochNanos); // the wall clock may have stepped back: never end before the start
        Block finish = new Block(Block.FINISH, null);
        finish.file = file;
        finish.pools = pools;
        finish.startTicks = ticks.ticks(startMonotonic);
        finish.startNanos = startEpochNanos;
        finish.durationNanos = end - startEpochNanos;
        finish.metadataId = (chunkIndex & 1) + 1; // consecutive chunks differ (JfrFiles.merge renumbers in the merged file)
        send(finish);
        pools = null;
        chunks.add(file);
        chunksWritten++;
        return end;
    }

    private Path chunkFile(int index) {
        return index == 0 ? base : base.resolveSibling(new StringBuilder().append(base.getFileName()).append('.').append(index).toString());
    }

    /** A free block for events, waiting a bounded time once when none is free; false if none came. */
    private boolean takeBlock() {
        Block b = freeBlocks.poll();
        if (b == null && blocksAllocated < BLOCKS) {
            b = new Block(Block.EVENTS, new EventEncoder(BLOCK_BYTES));
            blocksAllocated++;
        }
        if (b == null && !overflowing) {
            try {
                b = freeBlocks.poll(FULL_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (b == null) {
                overflowing = true;
                Log.warn("the disk does not keep up with the events: they are dropped, and counted, until it does");
            }
        }
        if (b == null) {
            return false;
        }
        overflowing = false;
        block = b;
        return true;
    }

    private void sendBlock() throws IOException {
        Block b = block;
        block = null;
        b.kind = Block.EVENTS;
        b.file = file;
        if (!queue.offer(b)) { // cannot happen: there are fewer blocks than places in the queue
            freeBlocks.offer(b);
            throw new IOException("the writer thread's queue is full");
        }
    }

    private void send(Block control) throws IOException {
        try {
            if (!queue.offer(control, CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                throw new IOException("the writer thread does not take more work");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing chunk files");
        }
    }

    /** A (monotonic ns, epoch ns) pair taken as close together as a few tries allow. */
    static long[] clockPair() {
        long best = Long.MAX_VALUE;
        long[] pair = new long[2];
        for (int i = 0; i < 5; i++) {
            long a = System.nanoTime();
            Instant now = Instant.now();
            long b = System.nanoTime();
            if (b - a < best) {
                best = b - a;
                pair[0] = a + (b - a) / 2;
                pair[1] = now.getEpochSecond() * 1_000_000_000L + now.getNano();
            }
        }
        return pair;
    }
}
