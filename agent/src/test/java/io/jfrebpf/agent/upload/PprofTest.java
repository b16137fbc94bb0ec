package io.jfrebpf.agent.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.it.PprofReader;
import io.jfrebpf.agent.it.PyroscopeServer;
import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.events.read.pprof.Pprof;
import io.jfrebpf.events.read.pprof.ProfileKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The profiles as the server decodes them: read back by protobuf-java over pprof's messages, not by our encoder. */
class PprofTest {
    static final Instant FROM = Instant.parse("2026-12-03T10:00:00Z");
    static final Instant UNTIL = FROM.plusSeconds(10);
    static final long PERIOD = 1_000_000_000L / 99;

    static JfrFrame java(String cls, String method, int line) {
        return new JfrFrame(cls, method, "()V", line, 7, "JIT compiled");
    }

    static JfrStack stack(JfrFrame... frames) {
        return new JfrStack(List.of(frames), false);
    }

    static PprofReader only(List<Pprof.Piece> pieces) throws Exception {
        assertEquals(1, pieces.size());
        return PprofReader.read(pieces.get(0).gzipped());
    }

    @Test
    void eachKindIsAProfileTypeOfItsOwnWithAStableName() throws Exception {
        Map<ProfileKind, List<String>> expected = new LinkedHashMap<>();
        expected.put(ProfileKind.CPU, List.of("process_cpu:cpu:nanoseconds:cpu:nanoseconds"));
        expected.put(ProfileKind.OFF_CPU, List.of("block:off_cpu:nanoseconds::"));
        expected.put(ProfileKind.RUN_QUEUE, List.of("runqueue:delay:nanoseconds::"));
        expected.put(ProfileKind.SYSCALL, List.of("syscall:time:nanoseconds::"));
        expected.put(ProfileKind.FILE_OPEN, List.of("file:open_time:nanoseconds::"));
        expected.put(ProfileKind.TCP, List.of("tcp:bytes_sent:bytes::", "tcp:bytes_received:bytes::"));
        expected.put(ProfileKind.POSTGRES, List.of("postgres:query_time:nanoseconds::"));
        expected.put(ProfileKind.NATIVE_ALLOCATION, List.of("memory:malloc_objects:count::", "memory:malloc_bytes:bytes::"));
        expected.put(ProfileKind.NATIVE_LEAK, List.of("memory:leak_objects:count::", "memory:leak_bytes:bytes::"));
        assertEquals(List.of(ProfileKind.values()), List.copyOf(expected.keySet()), "every kind is named here");
        for (ProfileKind k : ProfileKind.values()) {
            Map<JfrStack, long[]> stacks = new HashMap<>();
            stacks.put(stack(java("com.example.Shop", "checkout", 42)), new long[k.sampleTypes.size()]);
            java.util.Arrays.fill(stacks.values().iterator().next(), 5);
            PprofReader p = only(Pprof.encode(k, stacks, PprofFrames::of, FROM, UNTIL, PERIOD));
            // the name the server gives it: metricName over the sample types and their display names
            String name = PyroscopeServer.metricName(p, PyroscopeServer.SampleTypeConfig.displayNames(k.sampleTypeConfig()));
            List<String> ids = new ArrayList<>();
            for (PprofReader.ValueType t : p.sampleType()) {
                ids.add(name + ":" + p.string(t.type()) + ":" + p.string(t.unit()) + ":"
                        + (p.periodType() == null ? ":" : p.string(p.periodType().type()) + ":" + p.string(p.periodType().unit())));
            }
            assertEquals(expected.get(k), ids, k.name());
            assertEquals(expected.get(k), k.sampleTypes.stream().map(k::profileTypeId).toList(), k.name());
        }
    }

    @Test
    void cpuSamplesAreNanosecondsOfTheSamplingPeriodAsInPyroscopesJavaProfiles() throws Exception {
        Map<JfrStack, long[]> stacks = Map.of(stack(java("com.example.Shop", "checkout", 42)), new long[] {3});
        PprofReader p = only(Pprof.encode(ProfileKind.CPU, stacks, PprofFrames::of, FROM, UNTIL, PERIOD));
        assertEquals(3 * PERIOD, p.total("cpu"));
        assertEquals(PERIOD, p.period());
        assertEquals(FROM.toEpochMilli() * 1_000_000L, p.timeNanos());
        assertEquals(10_000_000_000L, p.durationNanos());
        PprofReader offCpu = only(Pprof.encode(ProfileKind.OFF_CPU, Map.of(stack(java("a.B", "c", 1)), new long[] {7}), PprofFrames::of, FROM, UNTIL, PERIOD));
        assertNull(offCpu.periodType(), "only CPU profiles have a period");
        assertEquals(7, offCpu.total("off_cpu"));
    }

    @Test
    void framesAreNamedAsPyroscopeNamesJavaFramesLeafFirst() throws Exception {
        JfrStack s = stack(new JfrFrame("kernel", "do_sys_openat2", "", -1, -1, "Kernel"),
                new JfrFrame("libc.so.6", "__open64", "", -1, -1, "Native"),
                java("com.example.Shop$$Lambda/0x0000000800c0b8c0", "run", 0),
                java("jdk.internal.reflect.GeneratedMethodAccessor31", "invoke", 0),
                java("java.lang.Thread", "run", 1583));
        PprofReader p = only(Pprof.encode(ProfileKind.FILE_OPEN, Map.of(s, new long[] {1000}), PprofFrames::of, FROM, UNTIL, PERIOD));
        assertEquals(List.of("do_sys_openat2_[k]", "__open64", "com/example/Shop$$Lambda_.run",
                "jdk/internal/reflect/GeneratedMethodAccessor_.invoke", "java/lang/Thread.run"), p.stack(p.sample().get(0)));
        PprofReader.Location thread = p.location().get(4);
        assertEquals(1583, thread.line().get(0).line());
        assertEquals(1, thread.mappingId());
        assertTrue(p.mapping().get(0).hasFunctions());
    }

    @Test
    void whatTheServerChecksHolds() throws Exception {
        Map<JfrStack, long[]> stacks = new HashMap<>();
        for (int i = 0; i < 50; i++) {
            stacks.put(stack(java("com.example.C" + i, "m", i), java("java.lang.Thread", "run", 1)), new long[] {i + 1, 2L * i + 1});
        }
        PprofReader p = only(Pprof.encode(ProfileKind.TCP, stacks, PprofFrames::of, FROM, UNTIL, PERIOD));
        assertEquals("", p.stringTable().get(0), "string 0 is the empty string");
        assertEquals(50, p.sample().size());
        assertTrue(p.sample().stream().allMatch(s -> s.value().size() == 2), "a value per sample type");
        assertTrue(p.location().stream().allMatch(l -> l.id() > 0) && p.function().stream().allMatch(f -> f.id() > 0));
        assertEquals(51, p.location().size(), "Thread.run:1 is one location");
        assertEquals(50 * 51 / 2, p.total("bytes_sent"));
        assertEquals(50 * 50, p.total("bytes_received"));
    }

    @Test
    void stacksPprofCannotTellApartAreOneSampleAndZeroWeightsAreLeftOut() throws Exception {
        Map<JfrStack, long[]> stacks = new HashMap<>();
        stacks.put(stack(new JfrFrame("a.B", "c", "()V", 5, 1, "Interpreted")), new long[] {2});
        stacks.put(stack(new JfrFrame("a.B", "c", "()V", 5, 9, "JIT compiled")), new long[] {3}); // another bci and type
        stacks.put(stack(java("a.B", "zero", 1)), new long[] {0});
        PprofReader p = only(Pprof.encode(ProfileKind.SYSCALL, stacks, PprofFrames::of, FROM, UNTIL, PERIOD));
        assertEquals(1, p.sample().size());
        assertEquals(5, p.total("time"));
    }

    @Test
    void nothingIsEncodedForAPeriodWithoutWeight() {
        assertEquals(List.of(), Pprof.encode(ProfileKind.CPU, Map.of(), PprofFrames::of, FROM, UNTIL, PERIOD));
        assertEquals(List.of(), Pprof.encode(ProfileKind.CPU, Map.of(stack(java("a.B", "c", 1)), new long[] {0}), PprofFrames::of, FROM, UNTIL, PERIOD));
        assertEquals(List.of(), Pprof.encode(ProfileKind.CPU, Map.of(stack(), new long[] {4}), PprofFrames::of, FROM, UNTIL, PERIOD));
    }

    @Test
    void aLongPeriodIsSplitIntoProfilesInsideTheServersLimitsThatAddUpToIt() throws Exception {
        Map<JfrStack, long[]> many = new HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            many.put(stack(java("com.example.C" + (i % 300), "m" + i, i), java("java.lang.Thread", "run", 1)), new long[] {1});
        }
        assertSplit(Pprof.encode(ProfileKind.CPU, many, PprofFrames::of, FROM, UNTIL, PERIOD), 20_000 * PERIOD, "cpu");
        Map<JfrStack, long[]> wide = new HashMap<>(); // long names: the byte bound cuts first
        String pkg = "com.example." + "deeply.nested.package.".repeat(8);
        for (int i = 0; i < 3_000; i++) {
            List<JfrFrame> frames = new ArrayList<>();
            for (int f = 0; f < 12; f++) {
                frames.add(java(pkg + "Class" + i + "x" + f, "method" + f, f));
            }
            wide.put(new JfrStack(frames, false), new long[] {2});
        }
        List<Pprof.Piece> pieces = Pprof.encode(ProfileKind.OFF_CPU, wide, PprofFrames::of, FROM, UNTIL, PERIOD);
        assertTrue(pieces.size() >= 6, pieces.size() + " pieces for ~7 MB of names");
        assertSplit(pieces, 6_000, "off_cpu");
    }

    private static void assertSplit(List<Pprof.Piece> pieces, long total, String type) throws Exception {
        assertTrue(pieces.size() > 1, "split: " + pieces.size());
        long sum = 0;
        for (Pprof.Piece piece : pieces) {
            PprofReader p = PprofReader.read(piece.gzipped());
            assertTrue(p.sample().size() <= Pprof.MAX_SAMPLES, p.sample().size() + " samples");
            assertTrue(p.rawSize() <= Pprof.MAX_BYTES, p.rawSize() + " bytes");
            assertEquals(piece.rawBytes(), p.rawSize());
            assertEquals(piece.samples(), p.sample().size());
            assertEquals(FROM.toEpochMilli() * 1_000_000L, p.timeNanos(), "each piece covers the whole period");
            sum += p.total(type);
        }
        assertEquals(total, sum, "the pieces add up to the period");
    }
}
