package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The off-CPU probe walks a stretch's user stack at the thread's return to user mode
 * (rseq_update) and, for threads without restartable sequences (glibc.pthread.rseq=0), at
 * switch-out: both give every blocking of {@link BlockingWorkload} its event, on its thread, with
 * the whole stack from the blocking method down to Thread.run, and no stretch goes without one.
 */
class OffCpuResumeIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "0"})
    void everyBlockingHasItsStackWithOrWithoutRseq(String rseq, @TempDir Path dir) throws Exception {
        Path recording = dir.resolve("offcpu.jfr");
        ChildJvm.Result result = ChildJvm.workload(BlockingWorkload.class).env("GLIBC_TUNABLES", "glibc.pthread.rseq=" + rseq)
                .agent("file=" + recording + ",probes=offcpu,log=info").run(dir).assertSucceeded();
        assertTrue(result.output().contains("blocked " + BlockingWorkload.TIMES + " times each"), result.output());
        assertFalse(result.output().contains("without rseq_update"), result.output());
        List<RecordedEvent> events = Recordings.read(recording);
        check(events, "sleeper", "sleepingMethod");
        check(events, "waiter", "waitingMethod");
        RecordedEvent status = where(events, "ebpf.ProbeStatus", e -> "offcpu".equals(e.getString("probe"))).getFirst();
        assertTrue(status.getString("reason").contains("on the thread's return to user mode (tp_btf rseq_update"),
                status.getString("reason"));
        assertEquals(0, status.getLong("lost"), status.toString());
    }

    /** The thread's stretches in the method: one per blocking at least, adding up to the blocked time, each with the whole stack. */
    private static void check(List<RecordedEvent> events, String thread, String method) {
        List<RecordedEvent> all = where(events, "ebpf.OffCPU", e -> thread.equals(javaName(e)));
        List<RecordedEvent> in = all.stream().filter(e -> e.getStackTrace() != null && e.getStackTrace().getFrames().stream()
                .anyMatch(f -> f.getMethod().getName().equals(method))).toList();
        String seen = thread + ": " + all.stream().map(OffCpuResumeIT::describe).toList();
        assertTrue(in.size() >= BlockingWorkload.TIMES, in.size() + " stretches in " + method + "; " + seen);
        Duration total = in.stream().map(RecordedEvent::getDuration).reduce(Duration.ZERO, Duration::plus);
        long expected = (long) BlockingWorkload.TIMES * BlockingWorkload.MILLIS;
        assertTrue(total.toMillis() >= expected * 9 / 10, total + " in " + method + ", expected about " + expected + " ms; " + seen);
        for (RecordedEvent e : in) {
            List<String> frames = names(e);
            int blocking = frames.indexOf(BlockingWorkload.class.getName() + "." + method);
            assertTrue(blocking >= 0 && blocking < frames.indexOf("java.lang.Thread.run"), describe(e));
            assertEquals("libjvm.so.thread_native_entry", frames.getLast(), describe(e));
            assertFalse(e.getStackTrace().isTruncated(), describe(e));
        }
        // no stretch of the thread goes without its user stack (the first may be its start, in libjvm alone)
        assertTrue(all.stream().allMatch(e -> names(e).contains("libjvm.so.thread_native_entry")), seen);
    }

    private static List<String> names(RecordedEvent e) {
        return e.getStackTrace() == null ? List.of()
                : e.getStackTrace().getFrames().stream().map(f -> f.getMethod().getType().getName() + "." + f.getMethod().getName())
                        .toList();
    }

    private static String describe(RecordedEvent e) {
        return e.getDuration().toMillis() + " ms " + e.getString("state") + " " + names(e);
    }
}
