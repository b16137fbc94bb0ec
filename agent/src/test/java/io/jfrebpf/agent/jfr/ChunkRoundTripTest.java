package io.jfrebpf.agent.jfr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.events.EbpfEvents;
import io.jfrebpf.events.FileOpenEvent;
import io.jfrebpf.events.SyscallStatisticsEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.item.ItemFilters;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;

/** Our chunks written, merged with a real JVM recording, and read back by the JDK's and JMC's parsers. */
class ChunkRoundTripTest {
    static final JfrThread OPENER = new JfrThread(4242, "opener", 77, "opener", false);
    static final JfrThread GC = JfrThread.nativeThread(4243, "GC Thread#0");

    @Test
    void eventsFieldsThreadsStacksAndTimesSurviveSeveralChunks(@TempDir Path dir) throws Exception {
        Path chunk = dir.resolve("ours.jfr");
        long t0 = System.nanoTime();
        Instant wallAtT0 = Instant.now();
        ChunkWriter writer = new ChunkWriter(chunk, EbpfEvents.ALL, JvmTicks.MONOTONIC, 3);
        for (int i = 0; i < 7; i++) {
            writer.write(open("/data/f-" + i, i + 3, null), t0 + i * 1_000_000L, 20_000, i % 2 == 0 ? OPENER : GC, null);
        }
        JfrStack stack = new JfrStack(List.of(
                new JfrFrame("java.io.FileInputStream", "open0", "(Ljava/lang/String;)V", -1, 0, "Native"),
                new JfrFrame("demo.Main", "main", "([Ljava/lang/String;)V", 12, 5, "JIT compiled")), false);
        writer.write(open("/data/missing", -1, "ENOENT"), t0 + 10_000_000L, 5_000, OPENER, stack);
        writer.close();
        assertEquals(3, writer.chunks().size(), "8 events at 3 per chunk");

        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        List<RecordedEvent> events = RecordingFile.readAllEvents(out).stream()
                .filter(e -> e.getEventType().getName().equals("ebpf.FileOpen")).toList();
        assertEquals(8, events.size(), events.stream().map(e -> e.getString("path")).toList().toString());
        for (int i = 0; i < 7; i++) {
            RecordedEvent e = events.get(i);
            assertEquals("/data/f-" + i, e.getString("path"), events.stream().map(x -> x.getString("path")).toList().toString());
            assertEquals(i + 3, e.getInt("fd"));
            assertNull(e.getString("error"));
            assertEquals(Duration.ofNanos(20_000), e.getDuration());
            assertNear(wallAtT0.plusMillis(i), e.getStartTime());
            if (i % 2 == 0) {
                assertEquals("opener", e.getThread().getJavaName());
                assertEquals(77, e.getThread().getJavaThreadId());
                assertEquals(4242, e.getThread().getOSThreadId());
            } else {
                assertNull(e.getThread().getJavaName(), "a native thread has no Java name");
                assertEquals("GC Thread#0", e.getThread().getOSName());
                assertEquals(4243, e.getThread().getOSThreadId());
            }
        }
        RecordedEvent missing = events.get(7);
        assertEquals("ENOENT", missing.getString("error"));
        List<RecordedFrame> frames = missing.getStackTrace().getFrames();
        assertEquals(2, frames.size());
        assertEquals("open0", frames.get(0).getMethod().getName());
        assertEquals("java.io.FileInputStream", frames.get(0).getMethod().getType().getName());
        assertEquals("Native", frames.get(0).getType());
        assertEquals(12, frames.get(1).getLineNumber());
        assertFalse(missing.getStackTrace().isTruncated());
    }

    @Test
    void mergedWithTheJvmsRecordingOnTheJvmsClock(@TempDir Path dir) throws Exception {
        Path jvm = dir.resolve("jvm.jfr");
        JvmTicks ticks = JvmTicks.measure(null);
        assertTrue(ticks.exact(), "the test JVM exports jdk.jfr.internal (surefire argLine)");
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, ticks);
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ThreadSleep").withoutThreshold();
            recording.start();
            Instant before = Instant.now();
            long start = System.nanoTime();
            Thread.sleep(30);
            writer.write(open("/data/after-sleep", 5, null), start, System.nanoTime() - start, OPENER, null);
            SyscallStatisticsEvent stats = new SyscallStatisticsEvent();
            stats.syscall = "read";
            stats.count = 3;
            writer.write(stats, System.nanoTime(), 0, null, null);
            recording.stop();
            recording.dump(jvm);
            writer.close();
            Path out = dir.resolve("merged.jfr");
            JfrFiles.merge(jvm, writer.chunks(), out);

            List<RecordedEvent> all = RecordingFile.readAllEvents(out);
            RecordedEvent sleep = all.stream().filter(e -> e.getEventType().getName().equals("jdk.ThreadSleep")
                    && e.getThread() != null && e.getThread().getJavaThreadId() == Thread.currentThread().threadId())
                    .findFirst().orElseThrow(() -> new AssertionError("the JVM's own jdk.ThreadSleep is in the file"));
            RecordedEvent ours = all.stream().filter(e -> e.getEventType().getName().equals("ebpf.FileOpen")).findFirst()
                    .orElseThrow();
            // the same 30 ms, seen by the JVM and by us: same clock, so they start within a millisecond
            assertTrue(Duration.between(sleep.getStartTime(), ours.getStartTime()).abs().toMillis() <= 1,
                    "JVM " + sleep.getStartTime() + " vs ours " + ours.getStartTime());
            assertTrue(!ours.getStartTime().isBefore(before.minusMillis(2)), ours.getStartTime() + " before " + before);
            RecordedEvent readStats = all.stream().filter(e -> e.getEventType().getName().equals("ebpf.SyscallStatistics"))
                    .findFirst().orElseThrow();
            assertEquals("read", readStats.getString("syscall"));
            assertEquals(3, readStats.getLong("count"));
            assertNull(readStats.getThread(), "statistics belong to the process, not a thread");

            IItemCollection jmc = JfrLoaderToolkit.loadEvents(out.toFile());
            assertTrue(jmc.apply(ItemFilters.type("ebpf.FileOpen")).hasItems(), "JMC reads our events");
            assertTrue(jmc.apply(ItemFilters.type("jdk.ThreadSleep")).hasItems(), "JMC reads the JVM's events");
        }
    }

    @Test
    void bufferedEventsOfAnEndedThreadTakeTheJavaThreadTheJvmNamed(@TempDir Path dir) throws Exception {
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC);
        JfrThread unresolved = JfrThread.nativeThread(4242, "opener");
        writer.write(open("/a", 3, null), System.nanoTime(), 1, unresolved, null);
        writer.write(open("/b", 4, null), System.nanoTime(), 1, GC, null);
        writer.relabel(Map.of(4242L, OPENER));
        writer.close();
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        List<RecordedEvent> events = RecordingFile.readAllEvents(out).stream()
                .filter(e -> e.getEventType().getName().equals("ebpf.FileOpen")).toList();
        assertEquals("opener", events.get(0).getThread().getJavaName());
        assertEquals(77, events.get(0).getThread().getJavaThreadId());
        assertNull(events.get(1).getThread().getJavaName(), "other native threads stay native");
    }

    @Test
    void theJvmsRecordingNamesThreadsThatHaveEnded(@TempDir Path dir) throws Exception {
        Path jvm = dir.resolve("jvm.jfr");
        long[] tid = new long[1];
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ThreadStart");
            recording.start();
            Thread t = new Thread(() -> tid[0] = io.jfrebpf.agent.os.Tid.current(), "short-lived");
            t.start();
            t.join();
            recording.stop();
            recording.dump(jvm);
        }
        Map<Long, JfrThread> found = JvmThreadStarts.find(jvm, java.util.Set.of(tid[0], 1L));
        assertEquals(1, found.size(), "only the wanted tid that was a Java thread: " + found);
        JfrThread t = found.get(tid[0]);
        assertEquals("short-lived", t.javaName());
        assertTrue(t.javaThreadId() > 0);
        assertTrue(Files.size(jvm) > 0);
    }

    private static FileOpenEvent open(String path, int fd, String error) {
        FileOpenEvent e = new FileOpenEvent();
        e.path = path;
        e.flags = "O_RDONLY";
        e.fd = fd;
        e.error = error;
        return e;
    }

    private static void assertNear(Instant expected, Instant actual) {
        assertTrue(Duration.between(expected, actual).abs().toMillis() <= 20, "expected about " + expected + ", was " + actual);
    }
}
