package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JMC plugin's rules on recordings the real agent made of workloads written to trigger
 * them, and of a clean one. (The rules for retransmits and slow connects are checked in TcpIT,
 * slow and N+1 queries in PostgresIT, leaks in MallocIT, throttling in ContainerIT, lost events
 * in SyscallLatencyIT: on the recordings those tests make.)
 */
class RulesIT {
    static final String ALL = "cpu+offcpu+file+tcp+syscall";

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @Test
    void theSameFileOpenedOnEveryRequestIsAFileOpenStorm(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("storm.jfr");
        ChildJvm.workload(RuleWorkloads.SettingsReread.class, dir.toString()).agent("file=" + recording + ",probes=file")
                .run(dir).assertSucceeded();
        JmcRules.on(recording).fires("FileOpenStorm", dir.resolve("settings.properties") + " (" + (RuleWorkloads.REREADS + 1) + " opens", // and the write
                "RuleWorkloads$SettingsReread.readSettings");
    }

    @Test
    void aConnectionPerRequestIsChurn(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("churn.jfr");
        ChildJvm.workload(RuleWorkloads.NoPool.class).agent("file=" + recording + ",probes=tcp").run(dir).assertSucceeded();
        JmcRules.on(recording).fires("ConnectionChurn", RuleWorkloads.REQUESTS + " connections to 127.0.0.1:",
                "RuleWorkloads$NoPool.request").quiet("SlowConnect", "Retransmits", "LostEvents");
    }

    /** The holder sleeps (idle by design, left out); the worker waits for the lock: that is the hot spot, in its code. */
    @ParameterizedTest
    @ValueSource(strings = {"monitor", "lock"})
    void aThreadBlockedOnAContendedLockIsAnOffCpuHotSpotAndSleepingIsNot(String kind, @TempDir Path dir) throws Exception {
        Path recording = dir.resolve("contention.jfr");
        ChildJvm.workload(RuleWorkloads.Contention.class, kind).agent("file=" + recording + ",probes=offcpu").run(dir).assertSucceeded();
        String summary = JmcRules.on(recording).fires("OffCpuHotSpot").summary("OffCpuHotSpot");
        assertTrue(kind.equals("monitor") ? summary.contains(" ms in io.jfrebpf.agent.it.RuleWorkloads$Contention.updateShared")
                : summary.contains(" ms in a java.util.concurrent lock taken in io.jfrebpf.agent.it.RuleWorkloads$Contention.updateGuarded:"),
                summary);
        assertFalse(summary.contains("sleep") || summary.contains("hold"), summary);
    }

    /**
     * The JDK's own daemon threads waiting for work — the VirtualThread-unblocker, a process
     * reaper, the Common-Cleaner — are off CPU for seconds in frames no application waits in, and
     * the virtual threads' carriers park between tasks: idle, not application threads blocked.
     * The recording must hold those waits, above the rule's threshold, for the rule's silence to
     * mean anything.
     */
    @Test
    void idleJdkDaemonThreadsAreNoOffCpuHotSpot(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("idle.jfr");
        ChildJvm.workload(RuleWorkloads.JdkIdle.class).agent("file=" + recording + ",probes=offcpu").run(dir).assertSucceeded();
        Map<String, Long> offCpu = new TreeMap<>();
        for (RecordedEvent e : Recordings.read(recording)) {
            if (e.getEventType().getName().equals("ebpf.OffCPU") && e.getThread() != null && e.getThread().getJavaName() != null) {
                String name = e.getThread().getJavaName();
                name = name.startsWith("process reaper") ? "process reaper" : name.startsWith("ForkJoinPool-") ? "carriers" : name;
                offCpu.merge(name, e.getDuration().toMillis(), Long::sum);
            }
        }
        long threshold = 1000; // the rule's default, ebpf.offcpu.hotspot
        for (String idle : List.of("VirtualThread-unblocker", "process reaper", "carriers")) {
            assertTrue(offCpu.getOrDefault(idle, 0L) >= threshold, idle + " off CPU (ms) by thread: " + offCpu);
        }
        JmcRules.on(recording).quiet("OffCpuHotSpot");
    }

    @Test
    void writesIntoAFullPipeAreSlowSyscallsOnTheWritingCode(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("pipe.jfr");
        ChildJvm.workload(RuleWorkloads.SlowPipe.class).agent("file=" + recording + ",probes=syscall").run(dir).assertSucceeded();
        JmcRules.on(recording).fires("SlowSyscall", "write from io.jfrebpf.agent.it.RuleWorkloads$SlowPipe.writeLog");
    }

    /**
     * The same kinds of work done right, under every probe but postgres: every rule that has its
     * events stays quiet. Every malloc sampled and malloc.age=1s make what the JVM keeps for
     * itself (code blobs, symbols) leak suspects too: the leak rule leaves it out.
     */
    @Test
    void aCleanWorkloadUnderEveryProbeTriggersNoRule(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("clean.jfr");
        ChildJvm.workload(RuleWorkloads.Clean.class, dir.toString())
                .agent("file=" + recording + ",probes=" + ALL + "+malloc,malloc.interval=0,malloc.age=1s")
                .run(dir).assertSucceeded();
        long held = Recordings.read(recording).stream().filter(e -> e.getEventType().getName().equals("ebpf.NativeLeak"))
                .mapToLong(e -> e.getLong("bytes")).sum();
        assertTrue(held >= 100_000, "the JVM's own long-lived allocations are leak suspects: " + held + " bytes");
        JmcRules rules = JmcRules.on(recording).quiet("LostEvents", "SlowSyscall", "FileOpenStorm", "SlowConnect", "Retransmits",
                "ConnectionChurn", "NativeLeak", "OffCpuHotSpot");
        // (the JDK's own native code, e.g. libjava, may keep a few KiB: that is the application's side)
        Matcher leak = Pattern.compile("Only (\\d+) KiB of native memory allocated by application code not freed \\((\\d+) KiB that"
                + " the JVM allocated for itself left out\\)").matcher(rules.summary("NativeLeak"));
        assertTrue(leak.find(), rules.summary("NativeLeak"));
        assertEquals(held >> 10, Long.parseLong(leak.group(1)) + Long.parseLong(leak.group(2)), 1, "all of " + held + " bytes");
        assertTrue(Long.parseLong(leak.group(2)) > Long.parseLong(leak.group(1)) * 10, "mostly the JVM's: " + leak.group());
    }
}
