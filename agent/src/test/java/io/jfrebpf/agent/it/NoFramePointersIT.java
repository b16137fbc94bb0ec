package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stacks of a JVM started without -XX:+PreserveFramePointer ({@link MixedStackWorkload}: JIT code
 * of C2 and, in a second JVM, of C1 only, interpreted code, JNI and FFM calls into libc, sleeps,
 * intrinsics, deoptimization and class unloading under the walk, virtual threads; and a third
 * JVM that the agent is attached to with {@code attach} once its code is compiled): the kernel
 * walks HotSpot's frames by their code blobs. Every stack is checked against the workload's
 * call graph (no frame invented, none skipped between two of its methods), and nearly every one
 * reaches its thread's entry method.
 */
class NoFramePointersIT {
    static final String W = MixedStackWorkload.class.getName();
    static final double REACH = 0.95;

    /** The workload's calls among its own methods: caller -> callees. */
    static final Map<String, Set<String>> CALLS = Map.ofEntries(
            Map.entry("compiledEntry", Set.of("hotLoop")), Map.entry("hotLoop", Set.of("hotMiddle")),
            Map.entry("hotMiddle", Set.of("hotLeaf")), Map.entry("hotLeaf", Set.of()),
            Map.entry("interpretedEntry", Set.of("interpretedLoop")), Map.entry("interpretedLoop", Set.of()),
            Map.entry("jniEntry", Set.of("jniRead")), Map.entry("jniRead", Set.of()),
            Map.entry("ffmEntry", Set.of("ffmOpen")), Map.entry("ffmOpen", Set.of()),
            Map.entry("sleeperEntry", Set.of("sleepLoop")), Map.entry("sleepLoop", Set.of()),
            Map.entry("intrinsicsEntry", Set.of("digest", "mismatch", "modPow")), Map.entry("digest", Set.of()),
            Map.entry("mismatch", Set.of()), Map.entry("modPow", Set.of()),
            Map.entry("deoptEntry", Set.of("deoptLoop")), Map.entry("deoptLoop", Set.of("area")), Map.entry("area", Set.of()),
            Map.entry("churnEntry", Set.of()),
            Map.entry("vtEntry", Set.of("vtDeep")), Map.entry("vtDeep", Set.of("vtDeep", "vtLoop")),
            Map.entry("vtLoop", Set.of("vtLeaf")), Map.entry("vtLeaf", Set.of()));

    /** Platform threads and their entry methods. */
    static final Map<String, String> ENTRIES = Map.of("compiled", "compiledEntry", "interpreted", "interpretedEntry",
            "jni", "jniEntry", "ffm", "ffmEntry", "sleeper", "sleeperEntry", "intrinsics", "intrinsicsEntry",
            "deopt", "deoptEntry", "churn", "churnEntry");

    static List<RecordedEvent> events;
    static List<RecordedEvent> c1Events;
    static List<RecordedEvent> attachedEvents;
    static String output;
    static Path file;

    @BeforeAll
    static void record(@TempDir Path dir) throws Exception {
        BpfRequirement.require();
        file = Files.writeString(dir.resolve("target.txt"), "x").toRealPath();
        Path recording = dir.resolve("no-fp.jfr");
        output = workload().agent("file=" + recording + ",probes=cpu+offcpu+file,cpu.hz=199").run(dir).assertSucceeded().output();
        events = Recordings.read(recording);
        Path c1 = dir.resolve("no-fp-c1.jfr");
        workload().flag("-XX:TieredStopAtLevel=1").agent("file=" + c1 + ",probes=cpu,cpu.hz=199").run(dir).assertSucceeded();
        c1Events = Recordings.read(c1);
        attachedEvents = attachLater(dir);
    }

    /**
     * The workload, the agent attached after 1.5 s (its hot code compiled by then) for 4 s. On two
     * CPUs busy with the workload's twelve threads the attach itself takes seconds: the workload
     * runs on until the recording is written, then is ended.
     */
    static List<RecordedEvent> attachLater(Path dir) throws Exception {
        Path recording = dir.resolve("no-fp-attached.jfr");
        Path log = dir.resolve("attached.log");
        Process p = workload("60000").flag("-XX:+EnableDynamicAgentLoading").start(log);
        try {
            Thread.sleep(1500);
            AttachIT.Cli attach = AttachIT.cli("attach", String.valueOf(p.pid()), "file=" + recording
                    + ",probes=cpu+offcpu+file,cpu.hz=199,duration=4s");
            assertEquals(0, attach.exitCode(), attach.output());
            ChildJvm.awaitOutput(p, log, "recording written to " + recording);
            assertTrue(p.isAlive(), Files.readString(log));
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        return Recordings.read(recording);
    }

    /** The events of the JVM that started with the agent and of the one it was attached to. */
    static List<RecordedEvent> platformAndAttached() {
        List<RecordedEvent> all = new ArrayList<>(events);
        all.addAll(attachedEvents);
        return all;
    }

    static ChildJvm workload(String... runMs) {
        List<String> args = new ArrayList<>(List.of(file.toString()));
        args.addAll(List.of(runMs));
        return ChildJvm.workload(MixedStackWorkload.class, args.toArray(String[]::new)).withoutFramePointers()
                .flag("-XX:CompileCommand=quiet")
                .flag("-XX:CompileCommand=exclude," + W + "::interpretedLoop")
                .flag("-XX:CompileCommand=dontinline," + W + "::hotLeaf")
                .flag("-XX:CompileCommand=inline," + W + "::hotMiddle");
    }

    /** The workload method a frame runs, or null (its class, hidden classes of its nested ones included). */
    static String workloadMethod(RecordedFrame f) {
        if (f == null || !f.isJavaFrame() || f.getType().equals("Native")) {
            return null;
        }
        String type = f.getMethod().getType().getName().replaceFirst("/0x[0-9a-f]+$", "");
        String name = f.getMethod().getName();
        return (type.equals(W) || type.equals(W + "$Square")) && CALLS.containsKey(name) ? name : null;
    }

    static boolean javaFrame(RecordedFrame f) {
        return !f.getType().equals("Native") && !f.getType().equals("Kernel");
    }

    static String describe(RecordedEvent e) {
        if (e.getStackTrace() == null) {
            return "no stack";
        }
        StringBuilder b = new StringBuilder(e.getStackTrace().isTruncated() ? "[truncated] " : "");
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
            b.append(f.getMethod().getType().getName()).append('.').append(f.getMethod().getName()).append(':')
                    .append(f.getLineNumber()).append(" [").append(f.getType()).append("]\n  ");
        }
        return b.toString();
    }

    /**
     * Where a stack breaks the workload's call graph, or null: two of its methods with no call between
     * them, or another Java frame between two of them (a frame skipped or invented).
     */
    static String broken(RecordedEvent e) {
        List<RecordedFrame> frames = e.getStackTrace().getFrames();
        String inner = null;
        boolean javaBetween = false;
        boolean unnamedBetween = false;
        for (RecordedFrame f : frames) {
            String m = workloadMethod(f);
            if (m == null) {
                javaBetween |= inner != null && javaFrame(f);
                unnamedBetween |= inner != null && unnamedCode(f);
                continue;
            }
            if (inner != null && (!CALLS.get(m).contains(inner) || javaBetween)) {
                if (unnamedBetween && !javaBetween) {
                    return UNNAMED;
                }
                return m + " -> " + inner + (javaBetween ? " with other Java frames between" : " is no call of the workload");
            }
            inner = m;
            javaBetween = false;
            unnamedBetween = false;
        }
        return null;
    }

    /** What {@link #broken} says of a stack whose only gap is a frame of compiled code freed before it was named. */
    static final String UNNAMED = "unnamed compiled code between";

    /**
     * A frame the walk stepped through in the code cache whose code was freed (tier-3 code replaced,
     * unloaded) between the sample and its naming: it is shown as freed compiled code (the nmethod
     * there now, if any, has another compile id than the walk saw) or, for a stub, as its address,
     * honestly unnamed, and its inlined callers cannot be told any more.
     */
    static boolean unnamedCode(RecordedFrame f) {
        return f.getType().equals("Native") && f.getMethod().getType().getName().equals("hotspot")
                && (f.getMethod().getName().startsWith("0x") || f.getMethod().getName().equals(JitChurnIT.FREED));
    }

    static boolean reaches(RecordedEvent e, String entry) {
        return e.getStackTrace() != null && e.getStackTrace().getFrames().stream().anyMatch(f -> entry.equals(workloadMethod(f)));
    }

    /**
     * Whether a stack is of the thread's own native start or end (whole to thread_native_entry,
     * no Java frame): the thread is not in Java code there, and no walk lost it.
     */
    static boolean outsideJava(RecordedEvent e) {
        List<RecordedFrame> frames = e.getStackTrace() == null ? List.of() : e.getStackTrace().getFrames();
        return frames.stream().noneMatch(NoFramePointersIT::javaFrame)
                && frames.stream().anyMatch(f -> f.getMethod().getName().equals("thread_native_entry"));
    }

    static void assertReach(List<RecordedEvent> all, String type, String thread, int atLeast) {
        List<RecordedEvent> on = all.stream().filter(e -> e.getEventType().getName().equals(type) && thread.equals(javaName(e))
                && !outsideJava(e)).toList();
        assertTrue(on.size() >= atLeast, type + " events of " + thread + ": " + on.size());
        String entry = ENTRIES.get(thread);
        List<RecordedEvent> missing = on.stream().filter(e -> !reaches(e, entry)).toList();
        System.out.printf("%s of %s: %d of %d (%.1f%%) reach %s%n", type, thread, on.size() - missing.size(), on.size(),
                100.0 * (on.size() - missing.size()) / on.size(), entry);
        assertTrue(on.size() - missing.size() >= REACH * on.size(), (on.size() - missing.size()) + " of " + on.size() + " " + type
                + " events of " + thread + " reach " + entry + "; e.g.\n  " + (missing.isEmpty() ? "" : describe(missing.get(0))));
    }

    @Test
    void cpuSamplesOfEveryKindOfCodeReachTheirThreadsEntry() {
        for (List<RecordedEvent> all : List.of(events, attachedEvents)) {
            for (String thread : List.of("compiled", "interpreted", "jni", "ffm", "intrinsics", "deopt", "churn")) {
                assertReach(all, "ebpf.CPUSample", thread, 20);
            }
        }
    }

    @Test
    void fileOpensReachTheirThreadsEntry() {
        for (List<RecordedEvent> all : List.of(events, attachedEvents)) {
            assertReach(all, "ebpf.FileOpen", "jni", 100);
            assertReach(all, "ebpf.FileOpen", "ffm", 100);
        }
    }

    @Test
    void offCpuStretchesReachTheirThreadsEntry() {
        for (List<RecordedEvent> all : List.of(events, attachedEvents)) {
            assertReach(all, "ebpf.OffCPU", "sleeper", 100);
            for (String thread : List.of("compiled", "interpreted", "jni", "ffm", "intrinsics")) {
                assertReach(all, "ebpf.OffCPU", thread, 20);
            }
        }
    }

    @Test
    void c1CompiledFramesReachTheirThreadsEntry() {
        assertReach(c1Events, "ebpf.CPUSample", "compiled", 20);
        assertTrue(c1Events.stream().anyMatch(e -> "compiled".equals(javaName(e)) && e.getStackTrace() != null
                && e.getStackTrace().getFrames().stream().anyMatch(f -> "hotLoop".equals(workloadMethod(f))
                        && f.getType().equals("JIT compiled"))), "a sample in hotLoop compiled by C1");
    }

    @Test
    void everyStackFollowsTheWorkloadsCalls() {
        for (List<RecordedEvent> all : List.of(events, c1Events, attachedEvents)) {
            int stacks = 0;
            List<RecordedEvent> unnamed = new ArrayList<>();
            for (RecordedEvent e : all) {
                if (!e.getEventType().getName().startsWith("ebpf.") || e.getStackTrace() == null) {
                    continue;
                }
                stacks++;
                String b = broken(e);
                if (UNNAMED.equals(b)) {
                    unnamed.add(e);
                    continue;
                }
                assertEquals(null, b, () -> e.getEventType().getName() + " of " + javaName(e) + ": " + describe(e));
            }
            System.out.printf("%d of %d stacks pass through compiled code freed before it was named%n", unnamed.size(), stacks);
            int n = stacks;
            assertTrue(unnamed.size() <= Math.max(2, n / 200), () -> unnamed.size() + " of " + n
                    + " stacks pass through freed compiled code; e.g.\n  " + describe(unnamed.get(0)));
        }
    }

    @Test
    void everyStackOfAThreadStaysInItsOwnCode() {
        for (RecordedEvent e : platformAndAttached()) {
            String entry = javaName(e) == null ? null : ENTRIES.get(javaName(e));
            if (entry == null || e.getStackTrace() == null || !e.getEventType().getName().startsWith("ebpf.")) {
                continue;
            }
            for (RecordedFrame f : e.getStackTrace().getFrames()) {
                String m = workloadMethod(f);
                assertTrue(m == null || reachable(entry, m), () -> m + " on thread " + javaName(e) + ":\n  " + describe(e));
            }
        }
    }

    static boolean reachable(String from, String to) {
        List<String> todo = new ArrayList<>(List.of(from));
        Set<String> seen = new java.util.HashSet<>();
        while (!todo.isEmpty()) {
            String m = todo.remove(todo.size() - 1);
            if (m.equals(to)) {
                return true;
            }
            if (seen.add(m)) {
                todo.addAll(CALLS.get(m));
            }
        }
        return false;
    }

    /** A frame at a return address is resolved at its call: the inlined hotMiddle at its call of hotLeaf, hotLoop at hotMiddle's. */
    @Test
    void callersAreNamedAtTheLinesOfTheirCalls() {
        int middleToLeaf = line("hotMiddle->hotLeaf");
        int loopToMiddle = line("hotLoop->hotMiddle");
        List<RecordedEvent> inLeaf = events.stream().filter(e -> "compiled".equals(javaName(e)) && e.getStackTrace() != null
                && "hotLeaf".equals(workloadMethod(e.getStackTrace().getFrames().stream().filter(NoFramePointersIT::javaFrame)
                        .findFirst().orElse(null)))).toList();
        assertTrue(inLeaf.size() >= 20, "samples in hotLeaf: " + inLeaf.size());
        for (RecordedEvent e : inLeaf) {
            for (RecordedFrame f : e.getStackTrace().getFrames()) {
                if ("hotMiddle".equals(workloadMethod(f))) {
                    assertEquals(middleToLeaf, f.getLineNumber(), () -> describe(e));
                }
                if ("hotLoop".equals(workloadMethod(f))) {
                    assertEquals(loopToMiddle, f.getLineNumber(), () -> describe(e));
                }
            }
        }
        assertTrue(inLeaf.stream().anyMatch(e -> e.getStackTrace().getFrames().stream().anyMatch(
                f -> "hotMiddle".equals(workloadMethod(f)) && f.getType().equals("Inlined"))), "hotMiddle inlined into hotLoop");
    }

    static int line(String call) {
        Matcher m = Pattern.compile("call " + Pattern.quote(call) + " at line (\\d+)").matcher(output);
        assertTrue(m.find(), output);
        return Integer.parseInt(m.group(1));
    }

    /**
     * The work of intrinsics is in HotSpot's stubs (or, for modPow, in libjvm): a stub frame names
     * its stub, and the Java frame under it is the code that called it, not a neighbour.
     */
    @Test
    void intrinsicStubsAreNamedAndCalledByTheirOwnJavaCode() {
        List<RecordedEvent> samples = platformAndAttached().stream().filter(e -> "ebpf.CPUSample".equals(e.getEventType().getName())
                && "intrinsics".equals(javaName(e)) && e.getStackTrace() != null).toList();
        Map<Predicate<String>, Predicate<String>> callers = Map.of(
                n -> n.startsWith("sha256"), c -> c.startsWith("sun.security.provider.") || c.startsWith("java.security.MessageDigest")
                        || c.equals(W + ".digest"),
                n -> n.contains("ismatch"), c -> c.startsWith("jdk.internal.util.ArraysSupport.") || c.startsWith("java.util.Arrays.")
                        || c.equals(W + ".mismatch"),
                n -> n.contains("montgomery") || n.equals("mulAdd") || n.contains("square") || n.contains("multiplyToLen"),
                c -> c.startsWith("java.math.") || c.equals(W + ".modPow"));
        int stubs = 0;
        for (RecordedEvent e : samples) {
            List<RecordedFrame> frames = e.getStackTrace().getFrames().stream().filter(f -> !f.getType().equals("Kernel")).toList();
            if (frames.isEmpty() || javaFrame(frames.get(0))) {
                continue;
            }
            String stub = frames.get(0).getMethod().getName();
            RecordedFrame caller = frames.stream().filter(NoFramePointersIT::javaFrame).findFirst().orElse(null);
            for (var c : callers.entrySet()) {
                if (c.getKey().test(stub)) {
                    stubs++;
                    // a stub caught where it cannot be unwound ends the stack, marked truncated
                    assertTrue(caller == null ? e.getStackTrace().isTruncated()
                            : c.getValue().test(caller.getMethod().getType().getName() + "." + caller.getMethod().getName()),
                            () -> stub + " called from " + describe(e));
                }
            }
        }
        assertTrue(stubs >= 20, "samples in the intrinsics' stubs: " + stubs);
        assertTrue(samples.stream().anyMatch(e -> e.getStackTrace().getFrames().stream()
                .anyMatch(f -> f.getMethod().getName().startsWith("sha256_implCompress"))), "SHA-256's stub by its name");
    }

    /**
     * A mounted virtual thread's frames lead to Continuation.enterSpecial and its carrier's, through
     * the continuation's return barrier when it was thawed lazily (its outer frames are then in its
     * stack chunk): the gap is shown by that frame, never bridged by frames of its own.
     */
    @Test
    void virtualThreadsReachTheirCarriersThroughEnterSpecial() {
        List<RecordedEvent> inVt = platformAndAttached().stream().filter(e -> e.getEventType().getName().equals("ebpf.CPUSample")
                && e.getStackTrace() != null && e.getStackTrace().getFrames().stream().anyMatch(f -> "vtLeaf".equals(workloadMethod(f))))
                .toList();
        assertTrue(inVt.size() >= 20, "samples in vtLeaf: " + inVt.size());
        int reach = 0;
        for (RecordedEvent e : inVt) {
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            int outer = -1;
            for (int i = 0; i < frames.size(); i++) {
                if (workloadMethod(frames.get(i)) != null) {
                    outer = i;
                }
            }
            List<String> beyond = frames.subList(outer + 1, frames.size()).stream().map(f -> f.getMethod().getName()).toList();
            boolean thawed = "vtEntry".equals(workloadMethod(frames.get(outer)));
            assertTrue(thawed || (!beyond.isEmpty() && beyond.get(0).equals("cont_returnBarrier")), () -> describe(e));
            if (beyond.contains("enterSpecial") && beyond.contains("run") && frames.stream().anyMatch(
                    f -> f.getMethod().getType().getName().equals("java.util.concurrent.ForkJoinWorkerThread"))) {
                reach++;
            }
        }
        assertTrue(reach >= REACH * inVt.size(), reach + " of " + inVt.size() + " samples in vtLeaf reach the carrier's"
                + " ForkJoinWorkerThread.run through Continuation.enterSpecial");
    }

    /**
     * A return address in no mapped file would be a frame made of a word of data. The kernel's
     * uprobe page, where a uretprobe's trampoline runs (a thread on its way back from libc's open,
     * interrupted there by a signal), is named as such.
     */
    @Test
    void noCallerIsInAnUnknownModule() {
        for (RecordedEvent e : platformAndAttached()) {
            if (e.getEventType().getName().startsWith("ebpf.") && e.getStackTrace() != null) {
                List<RecordedFrame> user = e.getStackTrace().getFrames().stream().filter(f -> !f.getType().equals("Kernel")).toList();
                assertFalse(user.stream().anyMatch(f -> f.getMethod().getType().getName().equals("unknown")),
                        () -> describe(e));
            }
        }
    }
}
