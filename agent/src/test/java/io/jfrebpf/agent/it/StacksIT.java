package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import org.junit.jupiter.api.BeforeAll;
import org.openjdk.jmc.common.IMCFrame;
import org.openjdk.jmc.common.IMCStackTrace;
import org.openjdk.jmc.common.item.IItem;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.item.IItemIterable;
import org.openjdk.jmc.common.item.IMemberAccessor;
import org.openjdk.jmc.common.item.ItemFilters;
import org.openjdk.jmc.flightrecorder.JfrAttributes;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stacks end to end, in one run of {@link StackWorkload} under probes=cpu+offcpu+file: each kind
 * of frame appears with its real name and frame type, CPU samples land in the method that burns
 * the CPU, and off-CPU time adds up to the sleeps.
 */
class StacksIT {
    static final String W = StackWorkload.class.getName();
    static List<RecordedEvent> events;
    static Path recordingFile;
    static Path file;
    static String output;

    @BeforeAll
    static void record(@TempDir Path dir) throws Exception {
        BpfRequirement.require();
        file = Files.writeString(dir.resolve("stack-target.txt"), "x").toRealPath();
        Path recording = dir.resolve("stacks.jfr");
        ChildJvm.Result result = ChildJvm.workload(StackWorkload.class, file.toString())
                .flag("-XX:CompileCommand=quiet")
                .flag("-XX:CompileCommand=exclude," + W + "::interpretedOnly")
                .flag("-XX:CompileCommand=dontinline," + W + "::leaf")
                .flag("-XX:CompileCommand=inline," + W + "::middle")
                .agent("file=" + recording + ",probes=cpu+offcpu+file,cpu.hz=199").run(dir).assertSucceeded();
        output = result.output();
        recordingFile = recording;
        events = Recordings.read(recording);
    }

    static List<RecordedEvent> on(String type, String thread) {
        return where(events, type, e -> thread.equals(javaName(e)));
    }

    static boolean has(RecordedEvent e, Predicate<RecordedFrame> frame) {
        return e.getStackTrace() != null && e.getStackTrace().getFrames().stream().anyMatch(frame);
    }

    static Predicate<RecordedFrame> method(String name, String type) {
        return f -> f.getMethod().getName().equals(name) && f.getType().equals(type)
                && (!f.isJavaFrame() || f.getMethod().getType().getName().equals(W));
    }

    static String describe(RecordedEvent e) {
        return e.getStackTrace() == null ? "no stack" : e.getStackTrace().getFrames().stream()
                .map(f -> f.getMethod().getType().getName() + "." + f.getMethod().getName() + ":" + f.getLineNumber()
                        + " [" + f.getType() + "]")
                .toList().toString();
    }

    @Test
    void anInterpretedMethodIsNamedWithItsLine() {
        List<RecordedEvent> samples = on("ebpf.CPUSample", "interp");
        assertTrue(samples.size() >= 20, "samples of interp: " + samples.size() + "\n" + output);
        List<RecordedEvent> in = samples.stream().filter(e -> has(e, method("interpretedOnly", "Interpreted"))).toList();
        assertTrue(in.size() * 2 > samples.size(), in.size() + " of " + samples.size() + " samples in interpretedOnly; first: "
                + describe(samples.get(0)));
        RecordedFrame f = in.get(0).getStackTrace().getFrames().stream()
                .filter(method("interpretedOnly", "Interpreted")).findFirst().orElseThrow();
        assertEquals("(I)J", f.getMethod().getDescriptor());
        assertTrue(f.getLineNumber() > 0 && f.getBytecodeIndex() >= 0, "line " + f.getLineNumber() + " bci " + f.getBytecodeIndex());
    }

    @Test
    void jitCompiledAndInlinedFramesAreNamed() {
        assertTrue(output.contains("outer compiled"), "the workload compiles outer before its threads start: " + output);
        List<RecordedEvent> samples = on("ebpf.CPUSample", "hot");
        assertTrue(samples.size() >= 20, "samples of hot: " + samples.size());
        long inOuter = samples.stream().filter(e -> has(e, f -> f.getMethod().getName().equals("outer"))).count();
        assertTrue(inOuter * 10 >= samples.size() * 6, inOuter + " of " + samples.size() + " samples hold outer");
        List<RecordedEvent> jit = samples.stream().filter(e -> has(e, method("outer", "JIT compiled"))
                && has(e, method("middle", "Inlined")) && has(e, f -> f.getMethod().getName().equals("leaf"))).toList();
        assertFalse(jit.isEmpty(), "no sample with leaf <- middle (Inlined) <- outer (JIT compiled); e.g. "
                + describe(samples.get(samples.size() - 1)) + "\n" + output);
        List<RecordedFrame> frames = jit.get(0).getStackTrace().getFrames();
        int leaf = indexOf(frames, "leaf");
        int middle = indexOf(frames, "middle");
        int outer = indexOf(frames, "outer");
        assertTrue(leaf < middle && middle < outer, "order leaf < middle < outer: " + describe(jit.get(0)));
        assertTrue(frames.get(middle).getLineNumber() > 0, "line of the inlined frame: " + describe(jit.get(0)));
    }

    static int indexOf(List<RecordedFrame> frames, String method) {
        for (int i = 0; i < frames.size(); i++) {
            if (frames.get(i).getMethod().getName().equals(method)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void aNativeFrameReachedThroughAnFfmDowncall() {
        List<RecordedEvent> opens = where(events, "ebpf.FileOpen", e -> file.toString().equals(e.getString("path"))
                && "ffm".equals(javaName(e)));
        assertEquals(20, opens.size(), "opens of ffm; " + Recordings.ofType(events, "ebpf.ProbeStatus").stream()
                .map(e -> e.getString("probe") + " lost " + e.getLong("lost")).toList());
        for (RecordedEvent e : opens) {
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            RecordedFrame top = frames.get(0);
            assertEquals("Native", top.getType(), describe(e));
            assertTrue(top.getMethod().getName().startsWith("open"), describe(e));
            assertEquals("libc.so.6", top.getMethod().getType().getName(), describe(e));
            assertTrue(has(e, f -> f.getMethod().getName().equals("ffmOpen") && f.isJavaFrame()), describe(e));
        }
    }

    @Test
    void aStackDeeperThanTheWalkIsMarkedTruncated() {
        List<RecordedEvent> opens = where(events, "ebpf.FileOpen", e -> (file + ".deep").equals(e.getString("path")));
        assertEquals(1, opens.size(), "the one open of the deep thread");
        RecordedEvent e = opens.get(0);
        assertEquals("ENOENT", e.getString("error"));
        assertTrue(e.getStackTrace().isTruncated(), "200 calls deep, not truncated: " + describe(e));
        long deepFrames = e.getStackTrace().getFrames().stream().filter(f -> f.getMethod().getName().equals("deep")).count();
        assertTrue(deepFrames >= 100 && deepFrames <= 128, deepFrames + " frames of deep()");
    }

    @Test
    void aShallowStackIsNotTruncated() {
        RecordedEvent e = where(events, "ebpf.FileOpen", x -> "ffm".equals(javaName(x))).get(0);
        assertFalse(e.getStackTrace().isTruncated(), describe(e));
    }

    @Test
    void kernelFramesUnderAFileOpen() {
        List<RecordedEvent> inKernel = where(events, "ebpf.CPUSample", e -> "opener".equals(javaName(e))
                && "kernel".equals(e.getString("state")));
        assertFalse(inKernel.isEmpty(), "no kernel-mode sample of opener");
        List<RecordedEvent> underOpen = inKernel.stream().filter(e -> has(e, f -> f.getType().equals("Kernel")
                && f.getMethod().getName().contains("open")) && has(e, f -> f.getMethod().getName().equals("kernelOpens"))).toList();
        assertFalse(underOpen.isEmpty(), "no sample with a kernel *open* frame under kernelOpens; e.g. " + describe(inKernel.get(0)));
        List<RecordedFrame> frames = underOpen.get(0).getStackTrace().getFrames();
        assertEquals("Kernel", frames.get(0).getType(), describe(underOpen.get(0)));
        assertEquals("kernel", frames.get(0).getMethod().getType().getName());
    }

    @Test
    void offCpuTimeOfASleepingMethodAddsUpToItsSleep() {
        // the thread by its OS tid (exact; its Java name is the business of other tests)
        java.util.regex.Matcher tid = java.util.regex.Pattern.compile("sleeper tid=(\\d+)").matcher(output);
        assertTrue(tid.find(), output);
        long sleeper = Long.parseLong(tid.group(1));
        List<RecordedEvent> off = where(events, "ebpf.OffCPU", e -> e.getThread() != null
                && e.getThread().getOSThreadId() == sleeper && has(e, f -> f.getMethod().getName().equals("sleepingMethod")));
        Duration total = off.stream().map(RecordedEvent::getDuration).reduce(Duration.ZERO, Duration::plus);
        long lost = where(events, "ebpf.ProbeStatus", e -> "offcpu".equals(e.getString("probe"))).stream()
                .mapToLong(e -> e.getLong("lost")).sum();
        assertTrue(total.toMillis() >= 990 && total.toMillis() <= 1300, "off-CPU in sleepingMethod: " + total
                + " (offcpu lost " + lost + ") over "
                + off.size() + " events; all of the thread: " + where(events, "ebpf.OffCPU", e -> e.getThread() != null
                        && e.getThread().getOSThreadId() == sleeper).stream().map(e -> e.getDuration().toMillis() + " ms "
                                + describe(e)).toList());
        // each sleep is an S stretch; on a loaded machine the thread may also be preempted (R) for a
        // millisecond or more on its way in or out of a sleep, inside the same method
        assertTrue(off.stream().filter(e -> "S".equals(e.getString("state"))).count() >= 10, "one S event per sleep at least: "
                + off.stream().map(e -> e.getString("state")).toList());
        assertTrue(off.stream().allMatch(e -> "S".equals(e.getString("state")) || "R".equals(e.getString("state"))), "states "
                + off.stream().map(e -> e.getString("state")).distinct().toList());
    }

    @Test
    void noFrameIsABareZero() {
        for (RecordedEvent e : events) {
            if (!e.getEventType().getName().startsWith("ebpf.") || e.getStackTrace() == null) {
                continue;
            }
            for (RecordedFrame f : e.getStackTrace().getFrames()) {
                String name = f.getMethod().getName();
                assertFalse(name.isEmpty() || name.equals("0x0") || name.equals("0"), describe(e));
                assertFalse(f.getMethod().getType().getName().isEmpty(), describe(e));
            }
        }
    }

    /** JDK Mission Control's parser reads every frame: names, types and lines, Java or not. */
    @Test
    void jmcReadsEveryFrame() throws Exception {
        IItemCollection items = JfrLoaderToolkit.loadEvents(recordingFile.toFile());
        java.util.Map<String, Integer> types = new java.util.TreeMap<>();
        java.util.Set<String> kernelClasses = new java.util.HashSet<>();
        int stacks = 0;
        for (IItemIterable it : items.apply(ItemFilters.type(java.util.Set.of("ebpf.CPUSample", "ebpf.OffCPU", "ebpf.FileOpen")))) {
            IMemberAccessor<IMCStackTrace, IItem> stack = JfrAttributes.EVENT_STACKTRACE.getAccessor(it.getType());
            for (IItem item : it) {
                IMCStackTrace st = stack.getMember(item);
                if (st == null) {
                    continue;
                }
                stacks++;
                for (IMCFrame f : st.getFrames()) {
                    String name = f.getMethod().getType().getFullName() + "." + f.getMethod().getMethodName();
                    assertFalse(name.isBlank(), "frame " + f);
                    types.merge(String.valueOf(f.getType()), 1, Integer::sum);
                    if (f.getMethod().getMethodName().startsWith("do_syscall_64")) {
                        kernelClasses.add(f.getMethod().getType().getFullName());
                    }
                }
            }
        }
        assertTrue(stacks > 100, "stacks JMC read: " + stacks);
        assertEquals(java.util.Set.of("kernel"), kernelClasses, "the kernel frames' class as JMC shows it");
        for (IMCFrame.Type t : List.of(IMCFrame.Type.INTERPRETED, IMCFrame.Type.JIT_COMPILED, IMCFrame.Type.INLINED,
                IMCFrame.Type.NATIVE, IMCFrame.Type.KERNEL)) {
            assertTrue(types.containsKey(String.valueOf(t)), t + " frames as JMC reads them: " + types);
        }
    }

    @Test
    void everyEventWithAStackHasOne() {
        for (String type : List.of("ebpf.CPUSample", "ebpf.OffCPU", "ebpf.FileOpen")) {
            List<RecordedEvent> all = Recordings.ofType(events, type);
            assertFalse(all.isEmpty(), type);
            long without = all.stream().filter(e -> e.getStackTrace() == null || e.getStackTrace().getFrames().isEmpty()).count();
            assertEquals(0, without, type + " events without a stack");
        }
    }

    /**
     * HotSpot's own threads block to wait for work (the compilers for methods to compile, GC
     * workers for a collection): none of that is an off-CPU stretch of the application.
     */
    @Test
    void hotSpotsOwnThreadsHaveNoOffCpuStretches() {
        List<String> own = Recordings.ofType(events, "ebpf.OffCPU").stream()
                .map(e -> e.getThread() == null || e.getThread().getOSName() == null ? "" : e.getThread().getOSName())
                .filter(n -> n.startsWith("C1 Compiler") || n.startsWith("C2 Compiler") || n.startsWith("GC Thread")
                        || n.equals("VM Thread") || n.startsWith("G1 ") || n.equals("Service Thread"))
                .distinct().toList();
        assertEquals(List.of(), own, "off-CPU stretches of HotSpot's own threads");
        assertFalse(Recordings.ofType(events, "ebpf.OffCPU").isEmpty(), "the application's own stretches are there");
    }
}
