package io.jfrebpf.agent.jfr;

import io.jfrebpf.agent.Log;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntSupplier;

/**
 * The writer thread ({@value ChunkWriter#WRITER_THREAD}): the one OS thread that writes chunk
 * files, so that the probes can leave its I/O out by its tid. It takes {@link Block}s from a
 * bounded queue, in order: encoded events, appended to their chunk's file (created at its first
 * block, with room left for its header); the end of a chunk, where it writes the constant
 * pools, then the metadata, then the header (the pools and metadata streamed through one
 * 64 KiB buffer, whatever their size); a barrier; the end. Event blocks and pools go
 * back to their free queues once written, so the thread that encodes events reuses them.
 *
 * <p>A write that fails (disk full) is kept as {@link #failure()}; later blocks are recycled
 * without being written, so the encoding side never waits for a thread that gave up.
 */
final class ChunkOutput implements Runnable {
    /** What the writer thread is given. */
    static final class Block {
        static final int EVENTS = 0;
        static final int FINISH = 1;
        static final int SYNC = 2;
        static final int STOP = 3;

        int kind;
        Path file;
        final EventEncoder bytes;
        ChunkPools pools;
        long startTicks;
        long startNanos;
        long durationNanos;
        int metadataId;
        CountDownLatch done;

        Block(int kind, EventEncoder bytes) {
            this.kind = kind;
            this.bytes = bytes;
        }
    }

    static final int MAJOR_VERSION = 2;
    static final int MINOR_VERSION = 0;
    /** Features of the header: integers are compressed (LEB128). */
    static final int COMPRESSED_INTS = 1;
    static final long TICKS_PER_SECOND = 1_000_000_000L;

    private final ArrayBlockingQueue<Block> queue;
    private final ArrayBlockingQueue<Block> freeBlocks;
    private final ArrayBlockingQueue<ChunkPools> freePools;
    private final Metadata metadata;
    private final IntSupplier hostTid;
    private final EventEncoder scratch = new EventEncoder(64 * 1024);
    private final ByteBuffer header = ByteBuffer.allocate(ChunkHeader.LENGTH);
    private final CountDownLatch started = new CountDownLatch(1);
    private FileChannel channel;
    private Path open;
    private volatile IOException failure;
    private volatile int tid;
    private volatile long cpuNanos = -1;

    ChunkOutput(ArrayBlockingQueue<Block> queue, ArrayBlockingQueue<Block> freeBlocks, ArrayBlockingQueue<ChunkPools> freePools,
            Metadata metadata, IntSupplier hostTid) {
        this.queue = queue;
        this.freeBlocks = freeBlocks;
        this.freePools = freePools;
        this.metadata = metadata;
        this.hostTid = hostTid;
    }

    @Override
    public void run() {
        try {
            tid = hostTid.getAsInt();
        } catch (Throwable e) {
            tid = 0;
        } finally {
            started.countDown();
        }
        boolean running = true;
        while (running) {
            Block b;
            try {
                b = queue.take();
            } catch (InterruptedException e) {
                continue; // only STOP ends it: the encoding side waits for every chunk
            }
            switch (b.kind) {
                case Block.EVENTS:
                    append(b);
                    break;
                case Block.FINISH:
                    finish(b);
                    break;
                case Block.SYNC:
                    b.done.countDown();
                    break;
                default:
                    running = false;
                    break;
            }
        }
        closeQuietly();
        if (Log.isDebug()) {
            try {
                cpuNanos = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            } catch (Throwable e) {
                cpuNanos = -1;
            }
        }
    }

    /** Waits until the thread knows its OS thread id; 0 if it could not read it. */
    int tid() throws InterruptedException {
        started.await();
        return tid;
    }

    IOException failure() {
        return failure;
    }

    /** CPU time the thread used, once it has ended with the debug log on; -1 else. */
    long cpuNanos() {
        return cpuNanos;
    }

    private void append(Block b) {
        try {
            if (failure == null) {
                openFor(b.file);
                b.bytes.writeTo(channel);
            }
        } catch (IOException | RuntimeException | Error e) {
            fail(b.file, e);
        } finally {
            b.bytes.reset();
            b.file = null;
            freeBlocks.offer(b);
        }
    }

    /** [header][events][constant pools][metadata]: the header, written last, says where each is. */
    private void finish(Block b) {
        ChunkPools pools = b.pools;
        try {
            if (failure == null) {
                openFor(b.file);
                long poolOffset = channel.position();
                scratch.reset();
                scratch.streamTo(channel); // pools of megabytes go out through the same 64 KiB
                pools.write(scratch, b.startTicks);
                scratch.writeTo(channel);
                long metadataOffset = channel.position();
                scratch.reset();
                scratch.streamTo(channel);
                metadata.writeEvent(scratch, b.startTicks, b.metadataId);
                scratch.writeTo(channel);
                long size = channel.position();
                header.clear();
                header.putInt(ChunkHeader.MAGIC).putShort((short) MAJOR_VERSION).putShort((short) MINOR_VERSION);
                header.putLong(size).putLong(poolOffset).putLong(metadataOffset);
                header.putLong(b.startNanos).putLong(b.durationNanos).putLong(b.startTicks).putLong(TICKS_PER_SECOND);
                header.putInt(COMPRESSED_INTS); // file state 0 (finished) in its first byte
                header.flip();
                while (header.hasRemaining()) {
                    channel.write(header, header.position());
                }
                channel.close();
                channel = null;
                open = null;
            }
        } catch (IOException | RuntimeException | Error e) {
            fail(b.file, e);
        } finally {
            scratch.reset();
            pools.reset(0); // let go of the chunk's strings and stacks now
            b.pools = null;
            freePools.offer(pools);
        }
    }

    private void openFor(Path file) throws IOException {
        if (file == open) {
            return;
        }
        closeQuietly();
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
        open = file;
        ByteBuffer placeholder = ByteBuffer.allocate(ChunkHeader.LENGTH); // the header's place, filled in at the end
        while (placeholder.hasRemaining()) {
            channel.write(placeholder);
        }
    }

    private void fail(Path file, Throwable e) {
        if (e instanceof UncheckedIOException u) {
            e = u.getCause(); // a write while streaming the pools
        }
        failure = e instanceof IOException io ? io
                : new IOException(new StringBuilder("cannot write ").append(file).append(": ").append(e).toString(), e);
        closeQuietly();
    }

    private void closeQuietly() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the failure, if any, is already kept
            }
            channel = null;
            open = null;
        }
    }
}
