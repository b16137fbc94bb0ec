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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        // the stacks of the calls: Thread.sleep under the futex wait, the FFM downcall to usleep under the nanosleep
        assertTrue(hasFrame(futex, "java.lang.Thread", "sleep"), "Thread.sleep in " + futex.getStackTrace());
        assertTrue(hasFrame(nanosleep, Workloads.class.getName(), "usleep"), "Workloads.usleep in " + nanosleep.getStackTrace());
        assertTrue(nanosleep.getStackTrace().getFrames().stream().anyMatch(f -> f.getType().equals("Kernel")),
                "kernel frames at the syscall's exit: " + nanosleep.getStackTrace());

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
        // sleeping is waiting by design, not a slow syscall to fix
        JmcRules.on(recording).quiet("SlowSyscall", "LostEvents");
    }

    /**
     * More events than the ring buffer holds (every syscall an event, threshold 0): the kernel
     * drops and counts what does not fit, the storm is not slowed into waiting, the statistics
     * (kept in the kernel) still count every call, and every call is either an event or a loss.
     */
    @Test
    void anOverflowIsCountedAndTheStatisticsStayExact(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("r.jfr");
        ChildJvm.Result r = ChildJvm.workload(Workloads.SyscallStorm.class, "3", "400000")
                .agent("file=" + recording + ",probes=syscall,syscall.threshold=0").run(dir).assertSucceeded();
        Matcher m = Pattern.compile("calls=(\\d+)").matcher(r.output());
        assertTrue(m.find(), r.output());
        long calls = Long.parseLong(m.group(1));
        List<RecordedEvent> events = Recordings.read(recording);

        RecordedEvent status = where(events, "ebpf.ProbeStatus", e -> e.getString("probe").equals("syscall")).get(0);
        long lost = status.getLong("lost");
        assertTrue(lost > 0, "a storm of " + calls + " calls overflowed nothing: " + status);
        long counted = where(events, "ebpf.SyscallStatistics", e -> e.getString("syscall").equals("getppid")).stream()
                .mapToLong(e -> e.getLong("count")).sum();
        assertEquals(calls, counted, "getppid calls counted in the kernel");
        long seen = where(events, "ebpf.SyscallLatency", e -> e.getString("syscall").equals("getppid")).size();
        assertTrue(seen > 0, "no getppid event at all");
        assertTrue(seen + lost >= calls, "events " + seen + " + lost " + lost + " < calls " + calls);
        Matcher said = Pattern.compile("eBPF events, (\\d+) lost[;)]").matcher(r.output());
        assertTrue(said.find() && Long.parseLong(said.group(1)) >= lost, "the agent's last line tells the loss: " + r.output());
        JmcRules.on(recording).fires("LostEvents", "syscall (" + lost + ")");
    }

    private static boolean hasFrame(RecordedEvent e, String className, String method) {
        return e.getStackTrace() != null && e.getStackTrace().getFrames().stream().anyMatch(f -> f.isJavaFrame()
                && f.getMethod().getType().getName().equals(className) && f.getMethod().getName().equals(method));
    }

    private static RecordedEvent one(List<RecordedEvent> events, Set<String> names) {
        List<RecordedEvent> m = events.stream().filter(e -> names.contains(e.getString("syscall"))
                && e.getDuration().compareTo(SLEEP) >= 0).toList();
        assertEquals(1, m.size(), names + " of at least " + SLEEP + " on the sleeper: " + events);
        return m.get(0);
    }
}
