package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the application starts: premain only hands off, so {@code main} runs while the probes
 * load and attach on the agent's thread, and ebpf.ProbeStatus says when each one attached;
 * {@code startup=wait} holds {@code main} until they are; a JVM that ends before they are
 * still leaves its recording, saying so.
 */
class StartupIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    /** Prints how long after the JVM's start main began, waits, then opens the file it is given. */
    static final class LateOpen {
        public static void main(String[] args) throws Exception {
            Instant jvmStart = ProcessHandle.current().info().startInstant().orElseThrow();
            System.out.println("main after " + Duration.between(jvmStart, Instant.now()).toMillis() + " ms");
            Thread.sleep(Long.parseLong(args[1]));
            try (InputStream in = new FileInputStream(args[0])) {
                in.read();
            }
        }
    }

    private static long mainAfterMs(String output) {
        for (String line : output.split("\n")) {
            if (line.startsWith("main after ")) {
                return Long.parseLong(line.substring("main after ".length(), line.indexOf(" ms")));
            }
        }
        throw new AssertionError("no 'main after' line in: " + output);
    }

    private static long latestAttachMs(List<RecordedEvent> events) {
        long latest = 0;
        for (RecordedEvent s : Recordings.ofType(events, "ebpf.ProbeStatus")) {
            assertTrue(s.getBoolean("attached"), "every probe attached: " + s);
            long ms = s.getDuration("attachedAfter").toMillis();
            assertTrue(ms > 0, "when it attached is said: " + s);
            latest = Math.max(latest, ms);
        }
        return latest;
    }

    @Test
    void mainStartsAtOnceAndWhatFollowsTheAttachIsSeen(@TempDir Path dir) throws Exception {
        Path target = Files.writeString(dir.resolve("late.txt"), "x");
        Path recording = dir.resolve("async.jfr");
        ChildJvm.Result r = ChildJvm.workload(LateOpen.class, target.toString(), "4000")
                .agent("file=" + recording + ",probes=cpu+offcpu+file+tcp,jfr=none,startup=async").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);
        long mainAfter = mainAfterMs(r.output());
        long attached = latestAttachMs(events);
        assertEquals(4, Recordings.ofType(events, "ebpf.ProbeStatus").size(), "one status per probe");
        assertTrue(mainAfter < attached, "main began " + mainAfter + " ms after the JVM's start, before the probes were all"
                + " attached (" + attached + " ms): premain did not wait");
        assertEquals(1, Recordings.where(events, "ebpf.FileOpen", e -> e.getString("path").equals(target.toString())).size(),
                "the open made after the attach is recorded");
    }

    @Test
    void startupWaitHoldsMainUntilTheProbesAreAttached(@TempDir Path dir) throws Exception {
        Path target = Files.writeString(dir.resolve("early.txt"), "x");
        Path recording = dir.resolve("wait.jfr");
        ChildJvm.Result r = ChildJvm.workload(LateOpen.class, target.toString(), "0")
                .agent("file=" + recording + ",probes=cpu+offcpu+file+tcp,jfr=none,startup=wait").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);
        long mainAfter = mainAfterMs(r.output());
        long attached = latestAttachMs(events);
        // both are read from the JVM's start time, which the kernel keeps in 10 ms steps
        assertTrue(mainAfter + 10 >= attached, "main began " + mainAfter + " ms after the JVM's start, after the probes ("
                + attached + " ms)");
        assertEquals(1, Recordings.where(events, "ebpf.FileOpen", e -> e.getString("path").equals(target.toString())).size(),
                "the open at main's first line is recorded");
    }

    @Test
    void aJvmThatEndsBeforeTheProbesAttachStillLeavesItsRecording(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("short.jfr");
        ChildJvm.workload(Workloads.Hello.class).agent("file=" + recording + ",jfr=none,startup=async").run(dir).assertSucceeded();
        List<RecordedEvent> status = Recordings.ofType(Recordings.read(recording), "ebpf.ProbeStatus");
        assertEquals(5, status.size(), "one status per default probe: " + status);
        // Hello returns at once; loading the five probes takes the agent's thread far longer
        assertFalse(status.stream().allMatch(s -> s.getBoolean("attached")), "some probes were not attached yet: " + status);
        for (RecordedEvent s : status) {
            if (!s.getBoolean("attached")) {
                assertTrue(s.getString("reason").contains("ended before it was attached"), "why: " + s);
                assertEquals(Duration.ZERO, s.getDuration("attachedAfter"), "not attached: " + s);
            }
        }
    }
}
