package io.jfrebpf.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.events.read.CallSites;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gate's verdicts on CPU: the same work costing more fails, the same work sampled again passes. */
class GateTest {
    static final String HOT = "Workload.burnCpu";
    static final long HZ99 = 1_000_000_000L / 99;

    /** A recording's CPU samples: hot in the hot method, the rest on the JVM's own threads, at 99 Hz. */
    static RecordingFacts cpu(long hot, long jvm, long periodNs) {
        RecordingFacts f = new RecordingFacts(CallSites.DEFAULT);
        f.cpuSource = "ebpf.CPUSample";
        f.cpuSamples = hot + jvm;
        f.cpuSelf.put(HOT, hot);
        f.cpuSelf.put(RecordingFacts.NO_JAVA_FRAME, jvm);
        f.cpuPeriodNs = periodNs;
        return f;
    }

    static Gate.Figure figure(Gate.Comparison c, String metric) {
        return c.figures().stream().filter(f -> f.metric().equals(metric)).findFirst().orElseThrow(() -> new AssertionError(
                metric + " not in " + c.figures()));
    }

    @Test
    void threeTimesTheCpuInTheHotMethodFailsThoughItsShareGrewLittle() {
        // 1 s and then 3 s of CPU work in the hot method: 117 samples against 320 (91.3% -> 97.5% of them)
        Gate.Comparison c = Gate.compare(cpu(107, 10, HZ99), cpu(312, 8, HZ99), Limits.defaults());
        assertTrue(figure(c, "CPU time in all").over(), c.toString());
        Gate.Figure hot = figure(c, "CPU time " + HOT);
        assertTrue(hot.over(), hot.toString());
        assertEquals("x2.92", hot.change());
        assertTrue(hot.base().contains("91.5%") && hot.next().contains("97.5%"), "the shares beside the times: " + hot);
        assertTrue(hot.base().startsWith("1.08 s"), hot.base());
        assertFalse(c.figures().stream().anyMatch(f -> f.metric().startsWith("CPU share")), "shares are no limit by default");
    }

    @Test
    void theSameWorkSampledAgainPasses() {
        // a count of ~500 samples varies by ~sqrt(500) = 22 between runs; 8% more is well inside both the ratio and the noise
        Gate.Comparison c = Gate.compare(cpu(480, 40, HZ99), cpu(520, 44, HZ99), Limits.defaults());
        assertTrue(c.figures().stream().noneMatch(Gate.Figure::over), c.toString());
        assertEquals(3, c.figures().size(), c.toString());
    }

    @Test
    void aRatioOverItsLimitWithinTheSamplingNoiseIsNotARegression() {
        // 30 -> 50 samples is x1.67, but 20 samples more is 2.2 standard deviations of the difference: noise
        Gate.Comparison c = Gate.compare(cpu(30, 30, HZ99), cpu(50, 32, HZ99), Limits.defaults());
        Gate.Figure hot = figure(c, "CPU time " + HOT);
        assertEquals("x1.67", hot.change());
        assertFalse(hot.over(), hot.toString());
        // with fewer standard deviations asked for, or none, the same change is over
        assertTrue(figure(Gate.compare(cpu(30, 30, HZ99), cpu(50, 32, HZ99), Limits.parse(List.of("cpu.noise=2"))), "CPU time " + HOT).over());
        assertTrue(figure(Gate.compare(cpu(30, 30, HZ99), cpu(50, 32, HZ99), Limits.parse(List.of("cpu.noise=off"))), "CPU time " + HOT).over());
    }

    @Test
    void recordingsWithTooFewSamplesAreNotJudgedOnCpuAndTheGateSaysSo() {
        Gate.Comparison c = Gate.compare(cpu(20, 5, HZ99), cpu(60, 5, HZ99), Limits.defaults());
        assertTrue(c.figures().isEmpty(), c.toString());
        assertTrue(c.notes().get(0).startsWith("CPU not judged: 25 and 65 samples, fewer than cpu.min=50"), c.notes().toString());
        assertTrue(Gate.compare(cpu(20, 5, HZ99), cpu(60, 5, HZ99), Limits.parse(List.of("cpu.min=20"))).figures().stream()
                .anyMatch(Gate.Figure::over), "cpu.min=20 judges them");
    }

    @Test
    void differentSamplingRatesCompareAsTime() {
        // the same 1 s of work at 99 Hz and at 199 Hz: twice the samples, the same time
        Gate.Comparison c = Gate.compare(cpu(99, 10, HZ99), cpu(199, 20, 1_000_000_000L / 199), Limits.defaults());
        assertTrue(c.figures().stream().noneMatch(Gate.Figure::over), c.toString());
        Gate.Comparison unknown = Gate.compare(cpu(99, 10, 0), cpu(99, 10, HZ99), Limits.defaults());
        assertTrue(unknown.notes().get(0).contains("sample period of the base is unknown"), unknown.notes().toString());
    }

    @Test
    void sharesAreALimitWhenAskedFor() {
        Gate.Comparison c = Gate.compare(cpu(50, 50, HZ99), cpu(75, 25, HZ99), Limits.parse(List.of("cpu.share=10")));
        Gate.Figure share = figure(c, "CPU share " + HOT);
        assertTrue(share.over(), share.toString());
        assertEquals("+25.0 pp", share.change());
        assertFalse(figure(c, "CPU time " + HOT).over(), "the same time in all, x1.5 in the method: not over x1.5");
    }

    @Test
    void aStatementsServerTimeInAllIsCompared() {
        RecordingFacts b = new RecordingFacts(CallSites.DEFAULT);
        RecordingFacts n = new RecordingFacts(CallSites.DEFAULT);
        for (int i = 0; i < 1000; i++) {
            b.queries.computeIfAbsent("SELECT * FROM lines WHERE order_id = $1", k -> new RecordingFacts.Timed()).add(20_000_000, null);
        }
        for (int i = 0; i < 2479; i++) {
            n.queries.computeIfAbsent("SELECT * FROM lines WHERE order_id = $1", k -> new RecordingFacts.Timed()).add(20_000_000, null);
        }
        Gate.Comparison c = Gate.compare(b, n, Limits.defaults());
        assertTrue(figure(c, "query time in all SELECT * FROM lines WHERE order_id = $1").over(), c.toString());
        assertFalse(figure(c, "query p99 SELECT * FROM lines WHERE order_id = $1").over(), "each as fast as before");
    }
}
