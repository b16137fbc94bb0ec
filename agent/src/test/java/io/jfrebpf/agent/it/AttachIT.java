package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attach <pid>}, {@code dump <pid>} and {@code stop <pid>} on a JVM started without the agent. */
class AttachIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @Test
    void attachRecordsARunningJvmAndStopLeavesNothingBehind(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("service.log");
        Path recording = dir.resolve("attached.jfr");
        Set<Long> before = FaultIT.programIds();
        Process service = ChildJvm.workload(Workloads.Busy.class, "60000").start(log);
        try {
            Thread.sleep(500);
            Cli attach = cli("attach", String.valueOf(service.pid()), "file=" + recording + ",probes=file");
            assertEquals(0, attach.exitCode(), attach.output());
            assertTrue(attach.output().contains("agent loaded into " + service.pid()), attach.output());
            ChildJvm.awaitOutput(service, log, "[jfr-ebpf] info: recording to " + recording);
            Set<Long> ours = new HashSet<>(FaultIT.programIds());
            ours.removeAll(before);
            assertFalse(ours.isEmpty(), "no program loaded by the attached agent");
            assertFalse(HostTaxIT.links(service.pid()).isEmpty(), "nothing attached");
            Thread.sleep(1000); // Busy opens its file every 20 ms

            // dump: the recording so far, while it goes on (also proves events flow while running,
            // not only at the end: most records are submitted without waking the agent)
            Path dump = dir.resolve("so-far.jfr");
            Cli dumpCommand = cli("dump", String.valueOf(service.pid()), "file=" + dump);
            assertEquals(0, dumpCommand.exitCode(), dumpCommand.output());
            ChildJvm.awaitOutput(service, log, "[jfr-ebpf] info: recording so far written to " + dump);
            List<RecordedEvent> soFar = Recordings.read(dump);
            long dumped = where(soFar, "ebpf.FileOpen", e -> e.getString("path").contains("/busy")).size();
            assertTrue(dumped >= 10, "opens in the dump: " + dumped);
            assertTrue(soFar.stream().anyMatch(e -> e.getEventType().getName().startsWith("jdk.")), "the JVM's own events in the dump");
            Thread.sleep(500);

            Cli stop = cli("stop", String.valueOf(service.pid()));
            assertEquals(0, stop.exitCode(), stop.output());
            ChildJvm.awaitOutput(service, log, "[jfr-ebpf] info: recording written to " + recording + " (stopped;");
            assertTrue(service.isAlive(), "the service goes on after stop");
            assertEquals(List.of(), HostTaxIT.links(service.pid()), "probes left attached after stop");
            assertEquals(List.of(), HostTaxIT.perfShow(service.pid()), "perf attachments left after stop");
            assertEquals(Set.of(), FaultIT.left(ours), "programs left loaded after stop");

            List<RecordedEvent> events = Recordings.read(recording);
            List<RecordedEvent> opens = where(events, "ebpf.FileOpen", e -> e.getString("path").contains("/busy"));
            assertTrue(opens.size() > dumped, "opens of the busy file: " + opens.size() + ", dumped before: " + dumped);
            for (RecordedEvent e : opens) {
                assertEquals("main", javaName(e), "thread of " + e);
            }
            assertTrue(events.stream().anyMatch(e -> e.getEventType().getName().startsWith("jdk.")), "the JVM's own events");
        } finally {
            service.destroyForcibly();
            service.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void attachSaysWhyItCannot(@TempDir Path dir) throws Exception {
        Cli noSuchPid = cli("attach", "999999999");
        assertEquals(2, noSuchPid.exitCode(), noSuchPid.output());
        assertTrue(noSuchPid.output().contains("no process 999999999"), noSuchPid.output());
        Cli badOption = cli("attach", String.valueOf(ProcessHandle.current().pid()), "colour=red");
        assertEquals(2, badOption.exitCode(), badOption.output());
        assertTrue(badOption.output().contains("unknown option 'colour'"), badOption.output());
        Cli notANumber = cli("stop", "java");
        assertEquals(2, notANumber.exitCode(), notANumber.output());
        assertTrue(notANumber.output().contains("'java' is not a process id"), notANumber.output());
    }

    record Cli(int exitCode, String output) {
    }

    static Cli cli(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(ChildJvm.JAVA.toString(), "-jar", ChildJvm.AGENT_JAR.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd));
        return new Cli(p.exitValue(), out);
    }
}
