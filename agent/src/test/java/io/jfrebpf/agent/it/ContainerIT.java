package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sched probe and ebpf.ContainerInfo in real cgroups this test creates: a JVM burning 4
 * threads in a cgroup limited to half a CPU is throttled (ebpf.CPUThrottle) and its threads wait
 * to run (ebpf.RunQueueLatency); the same JVM outside, with one thread, is neither. The cgroup
 * version is what the machine has (this project's machines: v1 controllers; cgroup v2 hosts:
 * cpu.max in the unified hierarchy).
 */
class ContainerIT {
    static final long MEMORY_LIMIT = 2L << 30;
    private final List<Path> created = new ArrayList<>();

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @AfterEach
    void removeCgroups() throws IOException {
        for (int i = created.size() - 1; i >= 0; i--) {
            Files.deleteIfExists(created.get(i)); // rmdir of an empty cgroup
        }
    }

    /** A cgroup of half a CPU and 2 GiB, v1 or v2 as the machine has; its cgroup.procs files. */
    private List<Path> limitedGroup(String name) throws IOException {
        List<Path> procs = new ArrayList<>();
        Path v1cpu = Path.of("/sys/fs/cgroup/cpu");
        if (Files.exists(v1cpu.resolve("cpu.cfs_quota_us"))) {
            Path cpu = Files.createDirectory(v1cpu.resolve(name));
            created.add(cpu);
            Files.writeString(cpu.resolve("cpu.cfs_period_us"), "100000");
            Files.writeString(cpu.resolve("cpu.cfs_quota_us"), "50000");
            procs.add(cpu.resolve("cgroup.procs"));
            Path memory = Files.createDirectory(Path.of("/sys/fs/cgroup/memory").resolve(name));
            created.add(memory);
            Files.writeString(memory.resolve("memory.limit_in_bytes"), String.valueOf(MEMORY_LIMIT));
            procs.add(memory.resolve("cgroup.procs"));
        } else {
            Path unified = Path.of("/sys/fs/cgroup");
            assertTrue(Files.exists(unified.resolve("cgroup.controllers")), "neither cgroup v1 cpu nor v2 at /sys/fs/cgroup");
            Files.writeString(unified.resolve("cgroup.subtree_control"), "+cpu +memory");
            Path group = Files.createDirectory(unified.resolve(name));
            created.add(group);
            Files.writeString(group.resolve("cpu.max"), "50000 100000");
            Files.writeString(group.resolve("memory.max"), String.valueOf(MEMORY_LIMIT));
            procs.add(group.resolve("cgroup.procs"));
        }

        return procs;
    }

    /**
     * A JVM moved into the group while it runs (as an orchestrator may do): a second
     * ebpf.ContainerInfo names the new group, and the throttling after the move is the new group's.
     */
    @Test
    void aProcessMovedIntoTheGroupIsSeenThere(@TempDir Path dir) throws Exception {
        String name = "jfrebpf-move-" + ProcessHandle.current().pid();
        List<Path> procs = limitedGroup(name);
        Path recording = dir.resolve("moved.jfr");
        Path log = dir.resolve("child.log");
        Process p = ChildJvm.workload(CpuBurn.class, "4", "6").agent("file=" + recording + ",probes=sched,sched.threshold=20ms")
                .start(log);
        ChildJvm.awaitOutput(p, log, "go");
        Thread.sleep(1500);
        for (Path f : procs) {
            Files.writeString(f, String.valueOf(p.pid()));
        }
        assertTrue(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES), Files.readString(log));
        assertEquals(0, p.exitValue(), Files.readString(log));

        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> info = where(events, "ebpf.ContainerInfo", e -> true).stream()
                .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime)).toList();
        assertEquals(2, info.size(), "at the start and after the move: " + info);
        assertTrue(!info.get(0).getString("cgroupPath").equals("/" + name), info.get(0).toString());
        assertEquals(-1.0, info.get(0).getDouble("cpuQuota"), 1e-9);
        assertEquals("/" + name, info.get(1).getString("cgroupPath"));
        assertEquals(0.5, info.get(1).getDouble("cpuQuota"), 1e-9);
        java.time.Instant moved = info.get(1).getStartTime();
        long before = where(events, "ebpf.CPUThrottle", e -> e.getEndTime().isBefore(moved)).stream()
                .mapToLong(e -> e.getLong("throttledPeriods")).sum();
        long after = where(events, "ebpf.CPUThrottle", e -> e.getStartTime().isAfter(moved)).stream()
                .mapToLong(e -> e.getLong("throttledPeriods")).sum();
        assertEquals(0, before, "no quota before the move");
        // a JVM that burns 4 threads on 2 CPUs without a quota is not throttled
        Path free = dir.resolve("free.jfr");
        ChildJvm.workload(CpuBurn.class, "4", "2").agent("file=" + free + ",probes=sched").run(dir).assertSucceeded();
        JmcRules.on(free).quiet("CpuThrottle");
        assertTrue(after > 5, "throttled periods after the move: " + after);
    }

    @Test
    void aThrottledCgroupShowsThrottlingAndRunQueueWaitsAndItsLimits(@TempDir Path dir) throws Exception {
        String name = "jfrebpf-test-" + ProcessHandle.current().pid();
        List<Path> procs = limitedGroup(name);

        Path recording = dir.resolve("throttled.jfr");
        ChildJvm.workload(CpuBurn.class, "4", "4").inCgroups(procs)
                .agent("file=" + recording + ",probes=sched,sched.threshold=20ms").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);

        List<RecordedEvent> info = where(events, "ebpf.ContainerInfo", e -> true);
        assertEquals(1, info.size(), info.toString());
        assertEquals("/" + name, info.get(0).getString("cgroupPath"));
        assertEquals(0.5, info.get(0).getDouble("cpuQuota"), 1e-9);
        assertEquals(MEMORY_LIMIT, info.get(0).getLong("memoryLimit"));
        assertEquals(null, info.get(0).getString("containerId"));

        List<RecordedEvent> throttle = where(events, "ebpf.CPUThrottle", e -> true);
        long throttled = throttle.stream().mapToLong(e -> e.getLong("throttledPeriods")).sum();
        long periods = throttle.stream().mapToLong(e -> e.getLong("periods")).sum();
        Duration throttledTime = throttle.stream().map(e -> e.getDuration("throttledTime")).reduce(Duration.ZERO, Duration::plus);
        assertTrue(throttled > 10 && throttled <= periods, throttled + " of " + periods + " periods throttled: " + throttle);
        assertTrue(throttledTime.toMillis() > 500, "throttled for " + throttledTime);
        JmcRules.on(recording).fires("CpuThrottle", throttled + " of " + periods + " quota periods");

        List<RecordedEvent> waits = where(events, "ebpf.RunQueueLatency",
                e -> javaName(e) != null && javaName(e).startsWith("burner-"));
        assertTrue(waits.size() >= 4, "run-queue waits of the burners: " + waits.size());
        for (RecordedEvent e : waits) {
            assertTrue(e.getDuration().toMillis() >= 20, "at or above sched.threshold: " + e.getDuration());
            assertTrue(e.getInt("cpu") >= 0 && e.getInt("cpu") < Runtime.getRuntime().availableProcessors(), e.toString());
        }
        assertTrue(waits.stream().anyMatch(e -> e.getBoolean("preempted")), "throttled threads are taken off while runnable");
        assertTrue(waits.stream().anyMatch(e -> e.getStackTrace() != null && e.getStackTrace().getFrames().stream()
                .anyMatch(f -> f.getMethod().getName().equals("burn"))), "where a burner was stopped");

        // the same JVM outside the group, one burner: no quota, no throttling, no 20 ms wait
        Path free = dir.resolve("free.jfr");
        ChildJvm.workload(CpuBurn.class, "1", "2").agent("file=" + free + ",probes=sched,sched.threshold=20ms")
                .run(dir).assertSucceeded();
        List<RecordedEvent> outside = Recordings.read(free);
        assertEquals(0, where(outside, "ebpf.CPUThrottle", e -> true).stream().mapToLong(e -> e.getLong("throttledPeriods")).sum());
        assertEquals(-1.0, where(outside, "ebpf.ContainerInfo", e -> true).get(0).getDouble("cpuQuota"), 1e-9);
        assertEquals(List.of(), where(outside, "ebpf.RunQueueLatency", e -> "burner-0".equals(javaName(e))));
    }
}
