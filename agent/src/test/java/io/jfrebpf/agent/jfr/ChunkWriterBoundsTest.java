package io.jfrebpf.agent.jfr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.jvm.ThreadRegistry;
import io.jfrebpf.agent.os.Tid;
import io.jfrebpf.agent.probe.Recorder;
import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.EbpfEvents;
import io.jfrebpf.events.FileOpenEvent;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the writer costs and how far it grows: allocation per event, a million events, many stacks, a disk that stalls. */
class ChunkWriterBoundsTest {
    static final int MILLION = 1_000_000;

    /**
     * The writing thread allocates next to nothing per event in steady state: events are
     * encoded into reused blocks, pool look-ups of known threads, stacks and strings allocate
     * nothing. Also times a million events through close and merge.
     */
    @Test
    void aMillionEventsAllocateAlmostNothingAndFinishInBoundedTime(@TempDir Path dir) throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current);
        FileOpenEvent e = ChunkRoundTripTest.open("/usr/lib/jvm/lib/modules", 7, null);
        JfrStack stack = ChunkRoundTripTest.STACK;
        long t0 = System.nanoTime();
        for (int i = 0; i < 200_000; i++) { // warm up: compiled code, blocks and pools allocated
            e.fd = i;
            writer.write(e, t0 + i, 100, ChunkRoundTripTest.OPENER, stack);
        }
        long start = System.nanoTime();
        long allocatedBefore = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < MILLION; i++) {
            e.fd = i;
            if (!writer.write(e, start + i, 100, ChunkRoundTripTest.OPENER, stack)) {
                throw new AssertionError("event " + i + " dropped");
            }
        }
        long allocated = mx.getCurrentThreadAllocatedBytes() - allocatedBefore;
        long written = System.nanoTime();
        writer.close();
        long closed = System.nanoTime();
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        long merged = System.nanoTime();
        double perEvent = (double) allocated / MILLION;
        System.out.printf("1M events: %.2f bytes allocated per event; write %d ms, close %d ms, merge %d ms; %d chunks, %d bytes%n",
                perEvent, (written - start) / 1_000_000, (closed - written) / 1_000_000, (merged - closed) / 1_000_000,
                writer.chunks().size(), Files.size(out));
        assertTrue(perEvent < 2, perEvent + " bytes allocated per event");
        assertTrue(merged - start < TimeUnit.SECONDS.toNanos(60), "a million events written, closed and merged in a minute");

        long count = 0;
        long lastFd = -1;
        try (RecordingFile f = new RecordingFile(out)) {
            while (f.hasMoreEvents()) {
                RecordedEvent r = f.readEvent();
                lastFd = r.getInt("fd");
                count++;
            }
        }
        assertEquals(200_000L + MILLION, count);
        assertEquals(MILLION - 1, lastFd);
    }

    /**
     * Every catalog type, so every field kind the writer reads by reflection (String, long,
     * int, boolean, double...), on Java, native and virtual threads, with and without stacks:
     * reading the fields boxes nothing and switching types allocates nothing.
     */
    @Test
    void everyCatalogTypeAndFieldKindAllocatesNothingPerEvent(@TempDir Path dir) throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current);
        int types = EbpfEvents.ALL.size();
        EbpfEvent[] events = new EbpfEvent[types];
        for (int t = 0; t < types; t++) {
            events[t] = ChunkRoundTripTest.sample(EbpfEvents.ALL.get(t), t);
        }
        JfrThread[] threads = {ChunkRoundTripTest.OPENER, ChunkRoundTripTest.GC, ChunkRoundTripTest.VIRTUAL};
        JfrStack[] stacks = {ChunkRoundTripTest.STACK, null, new JfrStack(ChunkRoundTripTest.STACK.frames().subList(2, 6), true)};
        int n = 500_000;
        long t0 = System.nanoTime();
        for (int round = 0; round < 2; round++) { // the first round warms up
            long allocatedBefore = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < n; i++) {
                if (!writer.write(events[i % types], t0 + i, 10, threads[i % 3], stacks[i % 7 % 3])) {
                    throw new AssertionError("event " + i + " dropped");
                }
            }
            double perEvent = (double) (mx.getCurrentThreadAllocatedBytes() - allocatedBefore) / n;
            if (round == 1) {
                System.out.printf("every catalog type: %.2f bytes allocated per event%n", perEvent);
                assertTrue(perEvent < 2, perEvent + " bytes allocated per event");
            }
        }
        writer.close();
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        Map<String, Long> counts = new HashMap<>();
        try (RecordingFile f = new RecordingFile(out)) {
            while (f.hasMoreEvents()) {
                counts.merge(f.readEvent().getEventType().getName(), 1L, Long::sum);
            }
        }
        assertEquals(types, counts.size(), counts.toString());
        assertEquals(2L * n, counts.values().stream().mapToLong(Long::longValue).sum());
    }

    /**
     * Distinct stacks fill the pools; the chunk closes at its bound whatever fills it, so no
     * chunk (and no pool in memory) grows far past it.
     */
    @Test
    void manyDistinctStacksAreBoundedByChunkRotation(@TempDir Path dir) throws Exception {
        long bound = 256 * 1024;
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current, bound);
        int n = 20_000;
        FileOpenEvent e = ChunkRoundTripTest.open("/x", 3, null);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            List<JfrFrame> frames = new ArrayList<>();
            for (int d = 0; d < 12; d++) {
                frames.add(new JfrFrame("app.C" + (i % 50), "m" + d + "_" + i, "(I)V", i, d, d % 2 == 0 ? "JIT compiled" : "Interpreted"));
            }
            e.fd = i;
            writer.write(e, t0 + i, 1, ChunkRoundTripTest.OPENER, new JfrStack(frames, false));
        }
        writer.close();
        assertTrue(writer.chunks().size() >= 10, "chunks: " + writer.chunks().size());
        for (Path chunk : writer.chunks()) {
            assertTrue(Files.size(chunk) < 2 * bound, chunk + ": " + Files.size(chunk) + " bytes");
        }
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        int i = 0;
        try (RecordingFile f = new RecordingFile(out)) {
            while (f.hasMoreEvents()) {
                RecordedEvent r = f.readEvent();
                assertEquals(i, r.getInt("fd"));
                List<RecordedFrame> frames = r.getStackTrace().getFrames();
                assertEquals(12, frames.size());
                assertEquals("m11_" + i, frames.get(11).getMethod().getName());
                assertEquals("app.C" + (i % 50), frames.get(0).getMethod().getType().getName());
                assertEquals(i, frames.get(5).getLineNumber());
                i++;
            }
        }
        assertEquals(n, i);
    }

    /**
     * Pools far larger than the writer thread's buffer go to the file through it, a piece at a
     * time: the writer thread allocates next to nothing per chunk however large the chunk's
     * pools (it kept growing an array to the size of the pools, then dropping it, every chunk).
     */
    @Test
    void poolsOfMegabytesGoToTheFileThroughTheWriterThreadsFixedBuffer(@TempDir Path dir) throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current, 4L << 20);
        Thread writerThread = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(ChunkWriter.WRITER_THREAD) && !before.contains(t)).findFirst().orElseThrow();
        FileOpenEvent e = ChunkRoundTripTest.open("/x", 3, null);
        long t0 = System.nanoTime();
        int i = 0;
        long warm = -1;
        while (writer.chunks().size() < 6) {
            List<JfrFrame> frames = new ArrayList<>();
            for (int d = 0; d < 12; d++) {
                frames.add(new JfrFrame("app.C" + (i % 50), "m" + d + "_" + i, "(I)V", i, d, "JIT compiled"));
            }
            e.fd = i;
            writer.write(e, t0 + i, 1, ChunkRoundTripTest.OPENER, new JfrStack(frames, false));
            i++;
            if (warm < 0 && writer.chunks().size() == 2) {
                writer.flushAndWait(); // the first chunks are on disk: the thread's buffers and file code are warm
                warm = mx.getThreadAllocatedBytes(writerThread.threadId());
            }
        }
        writer.flushAndWait();
        long allocated = mx.getThreadAllocatedBytes(writerThread.threadId()) - warm;
        writer.close();
        List<Path> chunks = writer.chunks();
        long smallestPools = Long.MAX_VALUE;
        for (Path chunk : chunks.subList(2, 6)) {
            smallestPools = Math.min(smallestPools, poolBytes(chunk));
        }
        System.out.printf("pools of at least %d bytes per chunk; the writer thread allocated %d bytes for chunks 3 to 6%n",
                smallestPools, allocated);
        assertTrue(smallestPools > 1 << 20, "chunks whose pools are megabytes: " + smallestPools);
        assertTrue(allocated < 4 * 64 * 1024, "the writer thread allocated " + allocated + " bytes for 4 chunks");
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, chunks, out);
        int n = 0;
        try (RecordingFile f = new RecordingFile(out)) {
            while (f.hasMoreEvents()) {
                RecordedEvent r = f.readEvent();
                assertEquals("m11_" + n, r.getStackTrace().getFrames().get(11).getMethod().getName());
                n++;
            }
        }
        assertEquals(i, n);
    }

    /** Bytes of a chunk's constant pool event: from the pool offset to the metadata offset of its header. */
    static long poolBytes(Path chunk) throws IOException {
        try (FileChannel ch = FileChannel.open(chunk, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(ChunkHeader.LENGTH);
            while (header.hasRemaining() && ch.read(header) > 0) {
                // fill
            }
            return header.getLong(ChunkHeader.METADATA_OFFSET) - header.getLong(ChunkHeader.POOL_OFFSET);
        }
    }

    /**
     * A disk that stalls (here a FIFO nobody reads yet): the writing thread waits once, a
     * bounded time, then drops and counts events without waiting, and the counts reach the
     * recorder; when the disk drains again, events are written again.
     */
    @Test
    void aStalledDiskCostsOneBoundedWaitThenEventsAreDroppedAndCounted(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("ours.jfr");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo");
        ChunkWriter writer = new ChunkWriter(fifo, EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current);
        Recorder recorder = new Recorder(writer, ThreadRegistry.create(null), null, null);
        FileOpenEvent e = ChunkRoundTripTest.open("/x", 3, null);
        long start = System.nanoTime();
        int delivered = 0;
        int refused = 0;
        for (int i = 0; i < 200_000; i++) {
            if (recorder.emit(e, System.nanoTime(), 0)) {
                delivered++;
            } else {
                refused++;
            }
        }
        long elapsed = System.nanoTime() - start;
        assertTrue(refused > 100_000, "dropped " + refused + " of 200,000 while nothing drains the disk");
        assertTrue(delivered >= ChunkWriter.BLOCKS * (ChunkWriter.BLOCK_SEND_BYTES / 64), "the blocks in flight were filled first: " + delivered);
        assertEquals(refused, writer.dropped());
        assertEquals(refused, recorder.dropped(), "the recorder counts them lost (ebpf.ProbeStatus.lost through the probes)");
        assertTrue(elapsed < TimeUnit.SECONDS.toNanos(5), "one bounded wait, not one per event: " + elapsed / 1_000_000 + " ms");

        Thread drain = new Thread(() -> {
            try (InputStream in = Files.newInputStream(fifo)) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // the writer closed its end
            }
        }, "drain");
        drain.setDaemon(true);
        drain.start();
        boolean again = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!again && System.nanoTime() < deadline) {
            again = recorder.emit(e, System.nanoTime(), 0);
            Thread.sleep(1);
        }
        assertTrue(again, "events are written again once the disk drains");
        // a FIFO cannot take the header written in place at the end: the failure is reported, not hidden
        assertThrows(IOException.class, writer::close);
    }
}
