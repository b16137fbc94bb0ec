package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static io.jfrebpf.agent.it.Recordings.ofType;
import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The syscall probe end to end: slow calls one by one, every call in the statistics. */
class SyscallLatencyIT {
    static final Duration SLEEP = Duration.ofMillis(200);

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @Test
    void sleepsShowAsSlowSyscallsOnTheSleepingThread(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("r.jfr");
        ChildJvm.workload(Workloads.Sleep.class).agent("file=" + recording + ",probes=syscall").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);

        List<RecordedEvent> slow = where(events, "ebpf.SyscallLatency", e -> "sleeper".equals(javaName(e)));
        // Thread.sleep parks on a futex in HotSpot (pthread_cond_timedwait): a 200 ms futex wait
        RecordedEvent futex = slow.stream().filter(e -> e.getString("syscall").equals("futex")
                && e.getDuration().compareTo(SLEEP) >= 0).findFirst().orElseThrow(() -> new AssertionError("no futex wait: " + slow));
        assertTrue(futex.getDuration().compareTo(SLEEP) >= 0, "futex wait " + futex.getDuration());
        assertEquals(-110, futex.getLong("result"), "the timed wait ends with ETIMEDOUT");
        // libc usleep is clock_nanosleep (or nanosleep on older libcs)
        RecordedEvent nanosleep = one(slow, Set.of("clock_nanosleep", "nanosleep"));
        assertTrue(nanosleep.getDuration().compareTo(SLEEP) >= 0, "nanosleep " + nanosleep.getDuration());
        assertEquals(0, nanosleep.getLong("result"));
        assertTrue(nanosleep.getStartTime().isAfter(futex.getStartTime()), "usleep comes after Thread.sleep");

        for (RecordedEvent e : ofType(events, "ebpf.SyscallLatency")) {
            assertTrue(e.getDuration().toNanos() >= 1_000_000, "below the 1 ms default threshold: " + e);
            assertFalse(e.getString("syscall").startsWith("syscall_"), "unnamed syscall " + e);
        }

        List<RecordedEvent> stats = ofType(events, "ebpf.SyscallStatistics");
        assertFalse(stats.isEmpty(), "no statistics");
        long sleeps = stats.stream().filter(s -> s.getString("syscall").equals(nanosleep.getString("syscall")))
                .mapToLong(s -> s.getLong("count")).sum();
        assertTrue(sleeps >= 1, "clock_nanosleep counted " + sleeps);
        long maxSleep = stats.stream().filter(s -> s.getString("syscall").equals(nanosleep.getString("syscall")))
                .mapToLong(s -> s.getLong("maxTime")).max().orElse(0);
        assertTrue(maxSleep >= SLEEP.toNanos(), "max clock_nanosleep " + maxSleep);
        for (RecordedEvent s : stats) {
            assertTrue(s.getLong("count") > 0 && s.getLong("errors") <= s.getLong("count"), s.toString());
            assertTrue(s.getLong("totalTime") >= s.getLong("maxTime"), s.toString());
        }
        long reads = stats.stream().filter(s -> s.getString("syscall").equals("read")).mapToLong(s -> s.getLong("count")).sum();
        assertTrue(reads > 10, "a JVM start reads class files: " + reads);
    }

    private static RecordedEvent one(List<RecordedEvent> events, Set<String> names) {
        List<RecordedEvent> m = events.stream().filter(e -> names.contains(e.getString("syscall"))
                && e.getDuration().compareTo(SLEEP) >= 0).toList();
        assertEquals(1, m.size(), names + " of at least " + SLEEP + " on the sleeper: " + events);
        return m.get(0);
    }
}
