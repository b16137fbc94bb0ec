package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The malloc probe end to end: native memory malloc'ed through FFM downcalls and never freed is
 * reported as ebpf.NativeLeak on the Java method that allocated it — exactly when every call is
 * sampled, within the stated error bound at the default interval — while freed memory is not;
 * calloc and realloc chains are counted by what is left.
 */
class MallocIT {
    static final long MIB = 1 << 20;

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    /** Through uprobe sessions (this kernel has them) and through uprobes + uretprobes (older kernels). */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void everyCallSampledGivesExactLeaksOnTheAllocatingMethod(boolean sessions, @TempDir Path dir) throws Exception {
        Path recording = dir.resolve("malloc.jfr");
        ChildJvm.Result result = ChildJvm.workload(NativeWorkloads.Leaks.class, "100", String.valueOf(MIB), "20000", "1500")
                .flag("-Djfrebpf.malloc.sessions=" + sessions)
                .agent("file=" + recording + ",probes=malloc,malloc.interval=0,malloc.age=1s").run(dir).assertSucceeded();
        assertTrue(result.output().contains(sessions ? "malloc: uprobe sessions for pid" : "malloc: uprobes and uretprobes for pid"),
                result.output());
        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> leaks = where(events, "ebpf.NativeLeak", e -> true);

        // The JVM allocates too while these methods run (class loading, string table, method counters:
        // os::malloc in libjvm.so, below the Java frames); the workload's own calls come from the FFM
        // downcall stub, with no libjvm.so frame. Those are checked exactly.
        assertEquals(100 * MIB, direct(leaks, "leakNative", "bytes"), "100 x 1 MiB never freed");
        assertEquals(100, direct(leaks, "leakNative", "allocations"));
        for (RecordedEvent e : leaksUnder(leaks, "leakNative")) {
            assertEquals("native-leaker", javaName(e), "thread of " + e);
            assertTrue(e.getDuration().toMillis() >= 1000, "at least malloc.age old: " + e.getDuration());
            assertEquals(Duration.ofSeconds(1), e.getDuration("minimumAge"), "the age it counted from, malloc.age");
        }
        assertEquals(1000 * 1024, direct(leaks, "callocBlock", "bytes"), "calloc(1000, 1024)");
        assertEquals(1, direct(leaks, "callocBlock", "allocations"));
        // 1 KiB malloc'ed, then realloc'ed 10 times up to 1 MiB: only the last block is left
        assertEquals(MIB, direct(leaks, "reallocChain", "bytes"), "realloc chain: " + leaksUnder(leaks, "reallocChain"));
        assertEquals(1, direct(leaks, "reallocChain", "allocations"));
        // 20,000 malloc(64)/free pairs: all freed
        assertEquals(0, direct(leaks, "smallPairs", "bytes"), "freed pairs reported as leaks: " + leaksUnder(leaks, "smallPairs"));

        List<RecordedEvent> allocations = where(events, "ebpf.NativeAllocation", e -> hasFrame(e, "leakNative") && fromDowncall(e));
        assertFalse(allocations.isEmpty(), "ebpf.NativeAllocation on leakNative");
        for (RecordedEvent e : allocations) {
            assertEquals(MIB, e.getLong("size"));
            assertEquals(MIB, e.getLong("weight"), "every call sampled: the weight is the size");
            assertEquals("malloc", e.getString("function"));
            assertTrue(e.getLong("address") != 0);
        }
        assertEquals(100, allocations.size(), "one event per call when every call is sampled");
        assertEquals(1, where(events, "ebpf.NativeAllocation", e -> "calloc".equals(e.getString("function"))
                && e.getLong("size") == 1000 * 1024).size(), "the calloc's event");
        assertEquals(10, where(events, "ebpf.NativeAllocation", e -> "realloc".equals(e.getString("function"))
                && hasFrame(e, "reallocChain") && fromDowncall(e)).size(), "the realloc chain's events");
        RecordedEvent status = where(events, "ebpf.ProbeStatus", e -> "malloc".equals(e.getString("probe"))).get(0);
        assertEquals(0, status.getLong("lost"), status.toString());
        // the innermost application frame: the workload's malloc helper, under leakNative
        JmcRules.on(recording).fires("NativeLeak", "from io.jfrebpf.agent.it.NativeWorkloads.malloc:").quiet("LostEvents");
    }

    /**
     * At the default interval (512 KiB): 1 MiB blocks are always sampled at their own size (exact);
     * 2 KiB blocks are sampled with probability 1/256 at weight 512 KiB: 51,200 of them (100 MiB)
     * give ~200 samples, a relative standard error of sqrt((1 - p) / (n p)) = 7.1%. The bound
     * checked is 30% (over 4 standard errors: a false failure about once in 40,000 runs).
     */
    @Test
    void defaultSamplingIsExactForLargeBlocksAndWithinItsBoundForSmallOnes(@TempDir Path dir) throws Exception {
        Path large = dir.resolve("large.jfr");
        ChildJvm.workload(NativeWorkloads.Leaks.class, "100", String.valueOf(MIB), "0", "1500")
                .agent("file=" + large + ",probes=malloc,malloc.age=1s").run(dir).assertSucceeded();
        List<RecordedEvent> leaks = where(Recordings.read(large), "ebpf.NativeLeak", e -> true);
        assertEquals(100 * MIB, direct(leaks, "leakNative", "bytes"), "blocks of 1 MiB and more are always sampled, at their size");

        Path small = dir.resolve("small.jfr");
        int n = 51_200;
        ChildJvm.workload(NativeWorkloads.Leaks.class, String.valueOf(n), "2048", "0", "1500")
                .agent("file=" + small + ",probes=malloc,malloc.age=1s").run(dir).assertSucceeded();
        leaks = where(Recordings.read(small), "ebpf.NativeLeak", e -> true);
        long estimate = direct(leaks, "leakNative", "bytes");
        double error = Math.abs(estimate - 100.0 * MIB) / (100.0 * MIB);
        long samples = direct(leaks, "leakNative", "samples");
        System.out.printf("malloc sampling: 100 MiB in 2 KiB blocks estimated as %d bytes (error %.1f%%) from %d samples%n",
                estimate, 100 * error, samples);
        assertTrue(error < 0.30, "estimate " + estimate + " from " + samples + " samples is " + 100 * error + "% off");
        assertTrue(samples > 100 && samples < 320, "~200 samples expected: " + samples);
    }

    /**
     * A recording shorter than the default age of 10 s (a CI capture): 100 MiB leaked at its
     * start, then 3 s of work, and no malloc.age. The report counts what is half the time traced
     * old, and each event says from which age it counted.
     */
    @Test
    void aRecordingShorterThanTheDefaultAgeReportsItsLeaks(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("short.jfr");
        ChildJvm.Result r = ChildJvm.workload(NativeWorkloads.Leaks.class, "100", String.valueOf(MIB), "0", "3000")
                .agent("file=" + recording + ",probes=malloc").run(dir).assertSucceeded();
        assertTrue(Pattern.compile("malloc: leak report: \\d+ sampled allocations not freed, \\d+ at least \\d+\\.\\d s old"
                + " \\(half the \\d+\\.\\d s traced\\)").matcher(r.output()).find(), r.output());
        List<RecordedEvent> leaks = where(Recordings.read(recording), "ebpf.NativeLeak", e -> true);
        assertEquals(100 * MIB, direct(leaks, "leakNative", "bytes"), "100 x 1 MiB never freed, in a recording of a few seconds");
        for (RecordedEvent e : leaks) {
            Duration age = e.getDuration("minimumAge");
            assertTrue(age.compareTo(Duration.ofSeconds(1)) > 0 && age.compareTo(Duration.ofSeconds(10)) < 0, "half the time traced: " + e);
            assertTrue(e.getDuration().compareTo(age) >= 0, "its oldest allocation is at least that old: " + e);
        }
        JmcRules.on(recording).fires("NativeLeak", "from io.jfrebpf.agent.it.NativeWorkloads.malloc:").quiet("LostEvents");
    }

    /**
     * malloc.duration=2s: the leak report is made when the window closes and the probes detach; what
     * the application leaks after it is not seen (nor are its frees, which is why the report cannot
     * wait for the end).
     */
    @Test
    void aWindowReportsItsLeaksWhenItClosesAndThenDetaches(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("window.jfr");
        ChildJvm.Result r = ChildJvm.workload(NativeWorkloads.LeaksTwice.class, "10", "4000")
                .agent("file=" + recording + ",probes=malloc,malloc.duration=2s,malloc.age=0").run(dir).assertSucceeded();
        assertTrue(r.output().contains("window is over; the probes are detached"), r.output());
        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> leaks = where(events, "ebpf.NativeLeak", e -> true);
        assertEquals(10 * MIB, direct(leaks, "leakNative", "bytes"), "the leaks inside the window");
        assertTrue(leaksUnder(leaks, "leakLater").isEmpty(), "leaks after the window: " + leaksUnder(leaks, "leakLater"));
        assertTrue(where(events, "ebpf.NativeAllocation", e -> hasFrame(e, "leakLater")).isEmpty(),
                "allocations after the window");
    }

    static List<RecordedEvent> leaksUnder(List<RecordedEvent> leaks, String method) {
        return leaks.stream().filter(e -> hasFrame(e, method)).toList();
    }

    /** The sum of a field over the leaks allocated by the workload's own downcalls under a method. */
    static long direct(List<RecordedEvent> leaks, String method, String field) {
        return leaksUnder(leaks, method).stream().filter(MallocIT::fromDowncall).mapToLong(e -> e.getLong(field)).sum();
    }

    /**
     * The workload's own call: libc, then the FFM downcall stub (hotspot), then the method handle's
     * frames, then the workload's wrapper (NativeWorkloads.malloc/calloc/realloc). The JVM
     * allocates on that thread too while it runs (os::malloc in libjvm.so: method handle
     * resolution, class loading for the downcall's first use), and so do JDK natives.
     */
    static boolean fromDowncall(RecordedEvent e) {
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
            String module = f.getMethod().getType().getName();
            if (JAVA_FRAMES.contains(f.getType())) { // (RecordedFrame.isJavaFrame() is true for every frame)
                if (module.startsWith("java.lang.invoke.") || module.startsWith("jdk.internal.foreign.")) {
                    continue; // the downcall method handle's own frames (LambdaForm$MH, DowncallStub)
                }
                return module.equals(NativeWorkloads.class.getName());
            }
            if (!module.equals("libc.so.6") && !module.equals("hotspot")) {
                return false;
            }
        }
        return false;
    }

    static final java.util.Set<String> JAVA_FRAMES = java.util.Set.of("Interpreted", "JIT compiled", "Inlined");

    static boolean hasFrame(RecordedEvent e, String method) {
        if (e.getStackTrace() == null) {
            return false;
        }
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
            if (f.isJavaFrame() && f.getMethod().getName().equals(method)
                    && f.getMethod().getType().getName().startsWith(NativeWorkloads.class.getName())) {
                return true;
            }
        }
        return false;
    }
}
