package io.jfrebpf.agent.jfr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.os.Tid;
import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.EbpfEvents;
import io.jfrebpf.events.FileOpenEvent;
import io.jfrebpf.events.FromProbe;
import io.jfrebpf.events.SyscallStatisticsEvent;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.AnnotationElement;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.Recording;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import jdk.jfr.Timestamp;
import jdk.jfr.Unsigned;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmc.common.IMCFrame;
import org.openjdk.jmc.common.IMCStackTrace;
import org.openjdk.jmc.common.IMCThread;
import org.openjdk.jmc.common.item.IAccessorKey;
import org.openjdk.jmc.common.item.IItem;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.item.IItemIterable;
import org.openjdk.jmc.common.item.IMemberAccessor;
import org.openjdk.jmc.common.item.IType;
import org.openjdk.jmc.common.item.ItemFilters;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;

/** Our chunks written, merged with a real JVM recording, and read back by the JDK's and JMC's parsers. */
class ChunkRoundTripTest {
    static final JfrThread OPENER = new JfrThread(4242, "opener", 77, "opener", false);
    static final JfrThread GC = JfrThread.nativeThread(4243, "GC Thread#0");
    static final JfrThread VIRTUAL = new JfrThread(4244, "carrier", 91, "bars-vt-3", true);
    static final JfrStack STACK = new JfrStack(List.of(
            new JfrFrame("kernel", "do_sys_openat2", "", -1, -1, "Kernel"),
            new JfrFrame("libc.so.6", "__open64", null, -1, -1, "Native"),
            new JfrFrame("java.io.FileInputStream", "open0", "(Ljava/lang/String;)V", -1, 0, "Native"),
            new JfrFrame("java.io.FileInputStream", "open", "(Ljava/lang/String;)V", 216, 2, "Inlined"),
            new JfrFrame("demo.Main", "read", "(Ljava/nio/file/Path;)[B", 40, 17, "JIT compiled"),
            new JfrFrame("demo.Main", "main", "([Ljava/lang/String;)V", 12, 5, "Interpreted")), false);
    static final IMCFrame.Type[] JMC_TYPES = {IMCFrame.Type.KERNEL, IMCFrame.Type.NATIVE, IMCFrame.Type.NATIVE, IMCFrame.Type.INLINED,
            IMCFrame.Type.JIT_COMPILED, IMCFrame.Type.INTERPRETED};

    @Test
    void everyCatalogTypeRoundTripsWithItsFieldsThreadAndStackThroughTheJdkAndJmc(@TempDir Path dir) throws Exception {
        long t0 = System.nanoTime();
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current);
        Map<String, EbpfEvent> written = new HashMap<>();
        for (int i = 0; i < EbpfEvents.ALL.size(); i++) {
            Class<? extends EbpfEvent> c = EbpfEvents.ALL.get(i);
            EbpfEvent e = sample(c, i);
            written.put(c.getAnnotation(Name.class).value(), e);
            assertTrue(writer.write(e, t0 + i * 1_000_000L, 1_000 + i, i % 2 == 0 ? OPENER : VIRTUAL, STACK));
        }
        writer.close();
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);

        List<RecordedEvent> events = RecordingFile.readAllEvents(out);
        assertEquals(EbpfEvents.ALL.size(), events.size());
        for (int i = 0; i < events.size(); i++) {
            RecordedEvent r = events.get(i);
            Class<? extends EbpfEvent> c = EbpfEvents.ALL.get(i);
            String name = c.getAnnotation(Name.class).value();
            assertEquals(name, r.getEventType().getName());
            EbpfEvent e = written.get(name);
            for (Field f : publicFields(c)) {
                assertEquals(f.get(e), r.getValue(f.getName()), name + "." + f.getName());
            }
            assertEquals(Duration.ofNanos(1_000 + i), r.getDuration());
            JfrThread t = i % 2 == 0 ? OPENER : VIRTUAL;
            assertEquals(t.javaName(), r.getThread().getJavaName());
            assertEquals(t.osName(), r.getThread().getOSName());
            assertEquals(t.virtual() ? -1 : t.osThreadId(), r.getThread().getOSThreadId(), "the JDK gives a virtual thread none");
            assertEquals(t.javaThreadId(), r.getThread().getJavaThreadId());
            assertEquals(t.virtual(), r.getThread().isVirtual());
            StackTrace st = c.getAnnotation(StackTrace.class);
            if (st != null && !st.value()) {
                assertNull(r.getStackTrace(), name + " has no stack trace field");
                assertFalse(r.hasField("stackTrace"));
                continue;
            }
            assertFrames(r);
        }

        IItemCollection jmc = JfrLoaderToolkit.loadEvents(out.toFile());
        int seen = 0;
        for (IItemIterable items : jmc) {
            IType<IItem> type = items.getType();
            EbpfEvent e = written.get(type.getIdentifier());
            assertNotNull(e, "JMC found a type we did not write: " + type.getIdentifier());
            Map<String, IMemberAccessor<?, IItem>> accessors = accessors(type);
            for (IItem item : items) {
                seen++;
                for (Field f : publicFields(e.getClass())) {
                    IMemberAccessor<?, IItem> a = accessors.get(f.getName());
                    assertNotNull(a, "JMC has no attribute " + type.getIdentifier() + "." + f.getName());
                    assertJmcValue(f.get(e), a.getMember(item), type.getIdentifier() + "." + f.getName());
                }
                IMCThread thread = (IMCThread) accessors.get("eventThread").getMember(item);
                assertTrue(thread.getThreadName().equals("opener") || thread.getThreadName().equals("bars-vt-3"), thread.getThreadName());
                IMemberAccessor<?, IItem> stack = accessors.get("stackTrace");
                StackTrace st = e.getClass().getAnnotation(StackTrace.class);
                if (st == null || st.value()) {
                    assertJmcFrames((IMCStackTrace) stack.getMember(item));
                }
            }
        }
        assertEquals(EbpfEvents.ALL.size(), seen, "JMC reads every event");
    }

    /**
     * What the JDK's parser reads as each type's metadata is what the catalog's annotations say
     * (label, description, categories; per field label, description, time span, data amount,
     * unsigned, memory address; a stack trace unless {@code @StackTrace(false)}), and nothing
     * that is ours alone: {@code @FromProbe} stays out of the file.
     */
    @Test
    void theMetadataIsTheCatalogsAnnotationsWithoutOurOwn(@TempDir Path dir) throws Exception {
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current);
        for (int i = 0; i < EbpfEvents.ALL.size(); i++) {
            writer.write(sample(EbpfEvents.ALL.get(i), i), System.nanoTime(), 1, OPENER, STACK);
        }
        writer.close();
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        Map<String, EventType> types = new HashMap<>();
        try (RecordingFile f = new RecordingFile(out)) {
            for (EventType t : f.readEventTypes()) {
                types.put(t.getName(), t);
            }
        }
        assertEquals(EbpfEvents.ALL.size(), types.size(), types.keySet().toString());
        for (Class<? extends EbpfEvent> c : EbpfEvents.ALL) {
            String name = c.getAnnotation(Name.class).value();
            EventType t = types.get(name);
            assertNotNull(t, name);
            assertNotNull(c.getAnnotation(FromProbe.class), name + " is a catalog type with @FromProbe");
            assertEquals(c.getAnnotation(Label.class).value(), t.getLabel(), name);
            assertEquals(c.getAnnotation(Description.class).value(), t.getDescription(), name);
            assertEquals(List.of(c.getAnnotation(Category.class).value()), t.getCategoryNames(), name);
            for (AnnotationElement a : t.getAnnotationElements()) {
                assertFalse(a.getTypeName().startsWith("io.jfrebpf."), name + " carries " + a.getTypeName());
            }
            StackTrace st = c.getAnnotation(StackTrace.class);
            assertEquals(st == null || st.value(), t.getField("stackTrace") != null, name + ".stackTrace");
            assertEquals(Timestamp.TICKS, t.getField("startTime").getAnnotation(Timestamp.class).value(), name);
            assertEquals(Timespan.TICKS, t.getField("duration").getAnnotation(Timespan.class).value(), name);
            for (Field f : publicFields(c)) {
                String what = name + "." + f.getName();
                ValueDescriptor v = t.getField(f.getName());
                assertNotNull(v, what);
                assertEquals(f.getType().getName(), v.getTypeName(), what);
                assertEquals(value(f.getAnnotation(Label.class)), v.getLabel(), what);
                assertEquals(value(f.getAnnotation(Description.class)), v.getDescription(), what);
                Timespan span = f.getAnnotation(Timespan.class);
                assertEquals(span == null ? null : span.value(), v.getAnnotation(Timespan.class) == null ? null
                        : v.getAnnotation(Timespan.class).value(), what);
                DataAmount amount = f.getAnnotation(DataAmount.class);
                assertEquals(amount == null ? null : amount.value(), v.getAnnotation(DataAmount.class) == null ? null
                        : v.getAnnotation(DataAmount.class).value(), what);
                assertEquals(f.getAnnotation(Unsigned.class) != null, v.getAnnotation(Unsigned.class) != null, what);
                assertEquals(f.getAnnotation(MemoryAddress.class) != null, v.getAnnotation(MemoryAddress.class) != null, what);
                for (AnnotationElement a : v.getAnnotationElements()) {
                    assertFalse(a.getTypeName().startsWith("io.jfrebpf."), what + " carries " + a.getTypeName());
                }
            }
        }
    }

    private static String value(Label l) {
        return l == null ? null : l.value();
    }

    private static String value(Description d) {
        return d == null ? null : d.value();
    }

    @Test
    void eventsOverSeveralChunksKeepOrderThreadsAndTimes(@TempDir Path dir) throws Exception {
        long t0 = System.nanoTime();
        Instant wallAtT0 = Instant.now();
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current, 2_000);
        int n = 300;
        for (int i = 0; i < n; i++) {
            writer.write(open("/data/f-" + i, i + 3, null), t0 + i * 1_000_000L, 20_000, i % 2 == 0 ? OPENER : GC, i % 3 == 0 ? STACK : null);
        }
        Instant lastWrite = Instant.now();
        Thread.sleep(300);
        writer.close();
        assertTrue(writer.chunks().size() >= 5, "chunks of about 2 KB: " + writer.chunks().size());
        assertBackToBack(writer.chunks());
        ChunkHeader last = ChunkHeader.readAll(writer.chunks().get(writer.chunks().size() - 1)).get(0);
        Instant lastEnd = Instant.ofEpochSecond(0, last.startNanos() + last.durationNanos());
        assertTrue(Duration.between(lastWrite, lastEnd).abs().toMillis() < 100,
                "the last chunk ends with its last event, not when the writer was closed: " + lastEnd + " vs " + lastWrite);

        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        List<RecordedEvent> events = RecordingFile.readAllEvents(out);
        assertEquals(n, events.size());
        for (int i = 0; i < n; i++) {
            RecordedEvent e = events.get(i);
            assertEquals("/data/f-" + i, e.getString("path"));
            assertEquals(i + 3, e.getInt("fd"));
            assertNull(e.getString("error"));
            assertEquals("O_RDONLY", e.getString("flags"));
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
            if (i % 3 == 0) {
                assertFrames(e);
            } else {
                assertNull(e.getStackTrace());
            }
        }
        IItemCollection jmc = JfrLoaderToolkit.loadEvents(out.toFile());
        assertEquals(n, jmc.apply(ItemFilters.type("ebpf.FileOpen")).stream().mapToLong(IItemIterable::getItemCount).sum(),
                "JMC keeps every chunk");
    }

    @Test
    void mergedWithTheJvmsRecordingOnTheJvmsClock(@TempDir Path dir) throws Exception {
        Path jvm = dir.resolve("jvm.jfr");
        JvmTicks ticks = JvmTicks.measure(null);
        assertTrue(ticks.exact(), "the test JVM exports jdk.jfr.internal (surefire argLine)");
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, ticks, Tid::current);
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ThreadSleep").withoutThreshold();
            recording.start();
            Instant before = Instant.now();
            long start = System.nanoTime();
            Thread.sleep(30);
            writer.write(open("/data/after-sleep", 5, null), start, System.nanoTime() - start, OPENER, STACK);
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
            assertFrames(ours);
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

    /**
     * The JVM's chunk covers the recording; ours, written meanwhile, cover parts of the same
     * time: in the merged file every chunk is in the order of its start, and the durations add
     * up to the time the file covers, which is what {@code jfr summary} says.
     */
    @Test
    void chunksAreInTimeOrderAndTheirDurationsAddUpToTheRecordingsLength(@TempDir Path dir) throws Exception {
        Path jvm = dir.resolve("jvm.jfr");
        ChunkWriter writer;
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ThreadSleep").withoutThreshold();
            recording.start();
            writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.measure(null), Tid::current, 4_000);
            long end = System.nanoTime() + 1_600_000_000L;
            int i = 0;
            while (System.nanoTime() < end) {
                writer.write(open("/data/" + i++, 3, null), System.nanoTime(), 1_000, OPENER, STACK);
                Thread.sleep(2);
            }
            recording.stop();
            recording.dump(jvm);
        }
        writer.close();
        assertTrue(writer.chunks().size() >= 4, "several chunks of ours: " + writer.chunks().size());
        assertBackToBack(writer.chunks());
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(jvm, writer.chunks(), out);

        List<ChunkHeader> chunks = ChunkHeader.readAll(out);
        long sum = 0;
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (int i = 0; i < chunks.size(); i++) {
            ChunkHeader h = chunks.get(i);
            if (i > 0) {
                assertTrue(h.startNanos() > chunks.get(i - 1).startNanos(), "chunk " + i + " starts after the one before");
            }
            sum += h.durationNanos();
            first = Math.min(first, h.startNanos());
            last = Math.max(last, h.startNanos() + h.durationNanos());
        }
        ChunkHeader jvmChunk = ChunkHeader.readAll(jvm).get(0);
        assertEquals(jvmChunk.startNanos(), chunks.get(0).startNanos(), "the JVM's chunk began first and comes first");
        // ours lie within the JVM's time but for the moment between the JVM's stop and our close
        assertTrue(sum - jvmChunk.durationNanos() < 200_000_000L, "our chunks add " + (sum - jvmChunk.durationNanos()) + " ns");
        assertTrue(Math.abs(sum - (last - first)) < 200_000_000L, "durations " + sum + " ns, span " + (last - first) + " ns");

        String summary = jfr("summary", out.toString());
        Matcher m = Pattern.compile("Duration: (\\d+) s").matcher(summary);
        assertTrue(m.find(), summary);
        assertEquals((jvmChunk.durationNanos() + 500_000_000L) / 1_000_000_000L, Long.parseLong(m.group(1)), summary);
        assertTrue(summary.contains("ebpf.FileOpen"), summary);
        String print = jfr("print", "--events", "ebpf.FileOpen", out.toString());
        assertTrue(print.contains("path = \"/data/0\"") && print.contains("line: 40"), print.substring(0, Math.min(print.length(), 2000)));
        assertEquals(RecordingFile.readAllEvents(out).stream().filter(e -> e.getEventType().getName().equals("ebpf.FileOpen")).count(),
                JfrLoaderToolkit.loadEvents(out.toFile()).apply(ItemFilters.type("ebpf.FileOpen")).stream()
                        .mapToLong(IItemIterable::getItemCount).sum(), "JMC reads every chunk of ours");
    }

    @Test
    void virtualThreadsAreTheirOwnThreadsAndOnesWrittenUnnamedTakeTheNameTheJvmGave(@TempDir Path dir) throws Exception {
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current);
        int n = 300;
        for (int i = 0; i < n; i++) {
            JfrThread v = new JfrThread(0, null, 1_000 + i, i % 3 == 0 ? "" : "vt-" + i, true);
            FileOpenEvent e = open("/v/" + i, 3, null);
            e.carrierThread = "ForkJoinPool-1-worker-" + (i % 2);
            writer.write(e, System.nanoTime(), 1, v, null);
        }
        writer.write(open("/platform", 3, null), System.nanoTime(), 1, OPENER, null);
        Map<Long, JfrThread> named = new java.util.HashMap<>();
        for (int i = 0; i < n; i += 3) {
            named.put(1_000L + i, new JfrThread(0, null, 1_000 + i, "vt-" + i, true));
        }
        named.put(77L, new JfrThread(0, null, 77, "not a virtual thread", true));
        writer.relabelVirtual(named);
        writer.close();
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        List<RecordedEvent> events = RecordingFile.readAllEvents(out).stream()
                .filter(e -> e.getEventType().getName().equals("ebpf.FileOpen")).toList();
        assertEquals(n + 1, events.size());
        for (int i = 0; i < n; i++) {
            RecordedEvent e = events.get(i);
            assertEquals("/v/" + i, e.getString("path"));
            assertTrue(e.getThread().isVirtual(), "virtual: " + e);
            assertEquals(1_000 + i, e.getThread().getJavaThreadId());
            assertEquals("vt-" + i, e.getThread().getJavaName());
            assertEquals("ForkJoinPool-1-worker-" + (i % 2), e.getString("carrierThread"));
        }
        RecordedEvent platform = events.get(n);
        assertEquals("opener", platform.getThread().getJavaName(), "a platform thread is not relabelled as virtual");
        assertEquals(4242, platform.getThread().getOSThreadId());
        assertNull(platform.getString("carrierThread"));
    }

    @Test
    void aThreadThatEndedUnknownTakesTheJavaThreadTheJvmNamedInTheChunkNotYetClosed(@TempDir Path dir) throws Exception {
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current, 1_000);
        JfrThread unresolved = JfrThread.nativeThread(4242, "opener");
        for (int i = 0; i < 40; i++) {
            writer.write(open("/a/" + i, 3, null), System.nanoTime(), 1, unresolved, null);
        }
        int closedBefore = writer.flushAndWait().size();
        writer.write(open("/b", 4, null), System.nanoTime(), 1, unresolved, null);
        writer.write(open("/c", 4, null), System.nanoTime(), 1, GC, null);
        writer.relabel(Map.of(4242L, OPENER));
        writer.close();
        assertTrue(closedBefore >= 2, "chunks closed before: " + closedBefore);
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        List<RecordedEvent> events = RecordingFile.readAllEvents(out).stream()
                .filter(e -> e.getEventType().getName().equals("ebpf.FileOpen")).toList();
        assertEquals(42, events.size());
        for (int i = 0; i < 40; i++) {
            assertNull(events.get(i).getThread().getJavaName(), "chunks closed before keep the OS thread");
            assertEquals(4242, events.get(i).getThread().getOSThreadId());
        }
        assertEquals("opener", events.get(40).getThread().getJavaName());
        assertEquals(77, events.get(40).getThread().getJavaThreadId());
        assertNull(events.get(41).getThread().getJavaName(), "other native threads stay native");
    }

    @Test
    void takenChunksBelongToTheirSliceAndAnEmptySliceLeavesNoChunk(@TempDir Path dir) throws Exception {
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current);
        for (int i = 0; i < 5; i++) {
            writer.write(open("/first/" + i, 3, null), System.nanoTime(), 1, OPENER, STACK);
        }
        List<Path> first = writer.takeChunks();
        assertEquals(1, first.size());
        assertTrue(writer.chunks().isEmpty(), "handed over");
        Thread.sleep(100);
        assertTrue(writer.takeChunks().isEmpty(), "a slice without events of ours has no chunk of ours");
        Instant secondSlice = Instant.now();
        Thread.sleep(100);
        writer.write(open("/second", 3, null), System.nanoTime(), 1, GC, STACK);
        List<Path> second = writer.takeChunks();
        writer.close();
        assertEquals(1, second.size());
        assertTrue(writer.chunks().isEmpty());
        ChunkHeader h = ChunkHeader.readAll(second.get(0)).get(0);
        assertTrue(!Instant.ofEpochSecond(0, h.startNanos()).isBefore(secondSlice.minusMillis(5)),
                "the chunk begins in its slice, not where the last chunk of ours ended");
        Path a = dir.resolve("a.jfr");
        Path b = dir.resolve("b.jfr");
        JfrFiles.merge(null, first, a);
        JfrFiles.merge(null, second, b);
        assertEquals(5, RecordingFile.readAllEvents(a).size());
        List<RecordedEvent> other = RecordingFile.readAllEvents(b);
        assertEquals(1, other.size());
        assertEquals("/second", other.get(0).getString("path"));
        assertFrames(other.get(0));
    }

    @Test
    void truncatedStacksNullEmptyHugeAndNonLatinStrings(@TempDir Path dir) throws Exception {
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current);
        StringBuilder b = new StringBuilder();
        while (b.length() < 3_000_000) {
            b.append("/very/long/path/").append(b.length());
        }
        String huge = b.toString();
        String unicode = "/données/数据/\uD83D\uDCC1/x";
        String loneSurrogate = "/bad\uD800name";
        JfrStack truncated = new JfrStack(STACK.frames(), true);
        FileOpenEvent nulls = open(null, -1, null);
        nulls.flags = "";
        writer.write(nulls, System.nanoTime(), 0, OPENER, truncated);
        writer.write(open(huge, 3, "ENAMETOOLONG"), System.nanoTime(), 0, OPENER, null);
        writer.write(open(unicode, 4, null), System.nanoTime(), 0, new JfrThread(4250, "wörker-数", 80, "wörker-数", false), null);
        writer.write(open(loneSurrogate, 5, null), System.nanoTime(), 0, OPENER, new JfrStack(List.of(), false));
        writer.close();
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);

        List<RecordedEvent> events = RecordingFile.readAllEvents(out);
        assertEquals(4, events.size());
        assertNull(events.get(0).getString("path"));
        assertNull(events.get(0).getString("error"));
        assertEquals("", events.get(0).getString("flags"));
        assertTrue(events.get(0).getStackTrace().isTruncated());
        assertEquals(STACK.frames().size(), events.get(0).getStackTrace().getFrames().size());
        assertEquals(huge, events.get(1).getString("path"));
        assertEquals(unicode, events.get(2).getString("path"));
        assertEquals("wörker-数", events.get(2).getThread().getJavaName());
        assertEquals(new String(loneSurrogate.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8), events.get(3).getString("path"));
        assertEquals(0, events.get(3).getStackTrace().getFrames().size());
        assertNull(events.get(1).getStackTrace());

        IItemCollection jmc = JfrLoaderToolkit.loadEvents(out.toFile());
        List<String> paths = new ArrayList<>();
        boolean sawTruncated = false;
        for (IItemIterable items : jmc.apply(ItemFilters.type("ebpf.FileOpen"))) {
            Map<String, IMemberAccessor<?, IItem>> a = accessors(items.getType());
            for (IItem item : items) {
                paths.add((String) a.get("path").getMember(item));
                IMCStackTrace st = (IMCStackTrace) a.get("stackTrace").getMember(item);
                if (st != null && st.getTruncationState() == IMCStackTrace.TruncationState.TRUNCATED) {
                    sawTruncated = true;
                }
            }
        }
        assertTrue(paths.contains(huge) && paths.contains(unicode) && paths.contains(null), "JMC's strings");
        assertTrue(sawTruncated, "JMC sees the truncated stack");
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

    static FileOpenEvent open(String path, int fd, String error) {
        FileOpenEvent e = new FileOpenEvent();
        e.path = path;
        e.flags = "O_RDONLY";
        e.fd = fd;
        e.error = error;
        return e;
    }

    /** An instance of a catalog class whose every public field has a value of its own. */
    static EbpfEvent sample(Class<? extends EbpfEvent> c, int seed) throws ReflectiveOperationException {
        EbpfEvent e = c.getDeclaredConstructor().newInstance();
        int k = 1;
        for (Field f : publicFields(c)) {
            long v = seed * 1000L + k++;
            Class<?> t = f.getType();
            if (t == String.class) {
                f.set(e, c.getSimpleName() + "." + f.getName() + "=" + v);
            } else if (t == long.class) {
                f.setLong(e, v * 1_000_003L);
            } else if (t == int.class) {
                f.setInt(e, (int) v);
            } else if (t == boolean.class) {
                f.setBoolean(e, k % 2 == 0);
            } else if (t == double.class) {
                f.setDouble(e, v + 0.25);
            } else if (t == float.class) {
                f.setFloat(e, v + 0.5f);
            } else if (t == short.class) {
                f.setShort(e, (short) v);
            } else if (t == byte.class) {
                f.setByte(e, (byte) v);
            } else if (t == char.class) {
                f.setChar(e, (char) ('a' + k));
            } else {
                throw new AssertionError("no sample for " + f);
            }
        }
        return e;
    }

    static List<Field> publicFields(Class<?> c) {
        List<Field> fields = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) {
            if (Modifier.isPublic(f.getModifiers()) && !Modifier.isStatic(f.getModifiers())) {
                fields.add(f);
            }
        }
        return fields;
    }

    static void assertFrames(RecordedEvent e) {
        List<RecordedFrame> frames = e.getStackTrace().getFrames();
        assertEquals(STACK.frames().size(), frames.size());
        assertFalse(e.getStackTrace().isTruncated());
        for (int i = 0; i < frames.size(); i++) {
            JfrFrame want = STACK.frames().get(i);
            RecordedFrame got = frames.get(i);
            assertEquals(want.methodName(), got.getMethod().getName());
            assertEquals(want.className(), got.getMethod().getType().getName());
            String descriptor = want.descriptor() == null || want.descriptor().isEmpty() ? "()V" : want.descriptor();
            assertEquals(descriptor, got.getMethod().getDescriptor());
            assertEquals(want.lineNumber(), got.getLineNumber());
            assertEquals(want.bytecodeIndex(), got.getBytecodeIndex());
            assertEquals(want.type(), got.getType());
        }
    }

    static void assertJmcFrames(IMCStackTrace st) {
        assertNotNull(st, "JMC reads the stack");
        List<? extends IMCFrame> frames = st.getFrames();
        assertEquals(STACK.frames().size(), frames.size());
        for (int i = 0; i < frames.size(); i++) {
            JfrFrame want = STACK.frames().get(i);
            IMCFrame got = frames.get(i);
            assertEquals(want.methodName(), got.getMethod().getMethodName());
            assertEquals(want.className(), got.getMethod().getType().getFullName());
            assertEquals(want.lineNumber(), got.getFrameLineNumber().intValue());
            assertEquals(want.bytecodeIndex(), got.getBCI().intValue());
            assertEquals(JMC_TYPES[i], got.getType(), "frame type of " + want);
        }
    }

    static void assertJmcValue(Object want, Object got, String what) {
        if (want instanceof String || want instanceof Boolean || want == null) {
            assertEquals(want, got, what);
        } else if (want instanceof Character c) {
            assertEquals((long) c, number(got, what).longValue(), what);
        } else if (want instanceof Double || want instanceof Float) {
            assertEquals(((Number) want).doubleValue(), number(got, what).doubleValue(), 1e-6, what);
        } else {
            assertEquals(((Number) want).longValue(), number(got, what).longValue(), what);
        }
    }

    /** JMC gives numbers as quantities of their unit, or (some unsigned values) as Long. */
    private static Number number(Object got, String what) {
        if (got instanceof IQuantity q) {
            return q.getUnit().getContentType().getIdentifier().equals("timespan") ? q.clampedLongValueIn(
                    org.openjdk.jmc.common.unit.UnitLookup.NANOSECOND) : q.doubleValue();
        }
        assertTrue(got instanceof Number, what + " is " + got);
        return (Number) got;
    }

    @SuppressWarnings("unchecked")
    static Map<String, IMemberAccessor<?, IItem>> accessors(IType<IItem> type) {
        Map<String, IMemberAccessor<?, IItem>> byName = new HashMap<>();
        for (IAccessorKey<?> key : type.getAccessorKeys().keySet()) {
            byName.put(key.getIdentifier(), (IMemberAccessor<?, IItem>) type.getAccessor(key));
        }
        return byName;
    }

    /** Each chunk file of a writer begins where the one before ends. */
    static void assertBackToBack(List<Path> chunks) throws IOException {
        long end = Long.MIN_VALUE;
        for (Path p : chunks) {
            List<ChunkHeader> headers = ChunkHeader.readAll(p);
            assertEquals(1, headers.size());
            ChunkHeader h = headers.get(0);
            assertTrue(h.durationNanos() >= 0);
            if (end != Long.MIN_VALUE) {
                assertEquals(end, h.startNanos(), p + " begins where the chunk before ends");
            }
            end = h.startNanos() + h.durationNanos();
        }
    }

    static String jfr(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "jfr").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    private static void assertNear(Instant expected, Instant actual) {
        assertTrue(Duration.between(expected, actual).abs().toMillis() <= 20, "expected about " + expected + ", was " + actual);
    }
}
