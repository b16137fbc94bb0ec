package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our CPU profile against async-profiler's, both loaded in the same JVM on the same run: a JVM
 * started without -XX:+PreserveFramePointer running {@link HotMethodsWorkload} (ten nested levels
 * and a recursion 30 deep, C1, C2 and inlined frames, interpreted methods, and hot work in
 * HotSpot's stubs for SHA-256, CRC32, Arrays.mismatch, arraycopy and Math.log, and in libjvm for
 * BigInteger.modPow). The top ten methods by self time (the innermost frame in user space, a stub
 * named by its stub) and by total time (inside the worker's entry) must be the same methods, at
 * least {@link #OVERLAP} of ten, and every method of either list must have the same share of the
 * samples in both profiles within {@link #SLACK} plus three standard errors of the difference of
 * the two shares (each profile's share is a proportion of its own samples: their noise is
 * binomial).
 */
class HotMethodsIT {
    static final String W = HotMethodsWorkload.class.getName();
    static final String ROOT = W + ".work";
    static final int OVERLAP = 8;
    static final double SLACK = 0.01;

    static HotMethods ours;
    static HotMethods theirs;

    @BeforeAll
    static void record(@TempDir Path dir) throws Exception {
        BpfRequirement.require();
        Path lib = AsyncProfilerLibrary.extractTo(dir);
        Path recording = dir.resolve("ours.jfr");
        Path peer = dir.resolve("async-profiler.jfr");
        // about the same rate for both: ours per CPU, async-profiler per thread's CPU time
        ChildJvm.workload(HotMethodsWorkload.class, "2", "15").withoutFramePointers()
                .flag("-XX:CompileCommand=quiet")
                .flag("-XX:CompileCommand=exclude," + W + "::interpretedLeaf")
                .flag("-XX:CompileCommand=exclude," + W + "::deepInterpreted")
                .flag("-XX:CompileCommand=dontinline," + W + "::javaLeaf")
                .flag("-XX:CompileCommand=dontinline," + W + "::deepJava")
                .flag("-XX:CompileCommand=inline," + W + "::inlinedLeaf")
                .flag("-XX:CompileCommand=inline," + W + "::deepInlined")
                .flag("-agentpath:" + lib + "=start,event=cpu,interval=2ms,jfr,file=" + peer)
                .agent("file=" + recording + ",probes=cpu,cpu.hz=499,jfr=none").run(dir).assertSucceeded();
        ours = HotMethods.read(recording, "ebpf.CPUSample", t -> t.startsWith("hot-"), ROOT);
        theirs = HotMethods.read(peer, "jdk.ExecutionSample", t -> t.startsWith("hot-"), ROOT);
        assertTrue(ours.samples >= 2000 && theirs.samples >= 2000, "samples of the workers: ours " + ours.samples
                + ", async-profiler's " + theirs.samples);
    }

    @Test
    void topTenBySelfTimeAgreeWithAsyncProfilers() {
        agree("self time (innermost user frame)", ours.self, theirs.self);
    }

    @Test
    void topTenByTotalTimeAgreeWithAsyncProfilers() {
        agree("total time (inside " + ROOT + ")", ours.total, theirs.total);
    }

    static void agree(String what, Map<String, Long> oursCounts, Map<String, Long> theirCounts) {
        List<HotMethods.Share> a = HotMethods.top(oursCounts, ours.samples, 10);
        List<HotMethods.Share> b = HotMethods.top(theirCounts, theirs.samples, 10);
        System.out.println(HotMethods.table("Top ten by " + what + ", without -XX:+PreserveFramePointer:", a, b, ours, theirs,
                oursCounts, theirCounts));
        Set<String> inOurs = new LinkedHashSet<>(a.stream().map(HotMethods.Share::method).toList());
        long common = b.stream().filter(s -> inOurs.contains(s.method())).count();
        List<String> off = new ArrayList<>();
        Set<String> union = new LinkedHashSet<>(inOurs);
        b.forEach(s -> union.add(s.method()));
        for (String m : union) {
            double p = ours.share(oursCounts, m);
            double q = theirs.share(theirCounts, m);
            double error = Math.sqrt(p * (1 - p) / ours.samples + q * (1 - q) / theirs.samples);
            double tolerance = SLACK + 3 * error;
            if (Math.abs(p - q) > tolerance) {
                off.add(String.format(Locale.ROOT, "%s: %.1f%% ours, %.1f%% async-profiler's (tolerance %.1f points)", m, 100 * p,
                        100 * q, 100 * tolerance));
            }
        }
        System.out.printf("%d of 10 in both; shares apart beyond the tolerance: %s%n%n", common, off);
        assertTrue(common >= OVERLAP, common + " of the top ten by " + what + " in both lists");
        assertTrue(off.isEmpty(), "shares by " + what + " that disagree: " + off);
    }
}
