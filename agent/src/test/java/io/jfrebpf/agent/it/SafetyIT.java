package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.ofType;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The application always starts: bad options, old JVMs and missing privileges cost it nothing but our events. */
class SafetyIT {
    static final Path JDK17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @Test
    void aBadOptionIsOneErrorLineAndTheApplicationRunsUntraced(@TempDir Path dir) throws Exception {
        ChildJvm.Result r = ChildJvm.workload(Workloads.Hello.class).agent("colour=red,file=" + dir.resolve("r.jfr"))
                .run(dir).assertSucceeded();
        assertEquals(1, r.agentLines().size(), r.output());
        String line = r.agentLines().get(0);
        assertTrue(line.startsWith("[jfr-ebpf] error: unknown option 'colour'") && line.contains("keys: file probes")
                && line.endsWith("the application runs untraced"), line);
        assertTrue(r.output().contains("hello from 25"), r.output());
        assertFalse(Files.exists(dir.resolve("r.jfr")));
    }

    @Test
    void onJdk17TheServiceStartsWithOneLineSayingWhyWeAreOff(@TempDir Path dir) throws Exception {
        assertTrue(Files.isExecutable(JDK17), "JDK 17 expected at " + JDK17);
        ChildJvm.Result r = ChildJvm.workload(Workloads.Hello.class).java(JDK17).agent("file=" + dir.resolve("r.jfr"))
                .run(dir).assertSucceeded();
        assertEquals(List.of("[jfr-ebpf] warn: Java 17" + r.agentLines().get(0).substring("[jfr-ebpf] warn: Java 17".length())),
                r.agentLines(), r.output());
        assertTrue(r.agentLines().get(0).contains("too old for jfr-ebpf"), r.output());
        assertTrue(r.output().contains("hello from 17"), r.output());
    }

    @Test
    void withoutPrivilegesEveryProbeWarnsOnceAndTheRecordingSaysWhy(@TempDir Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path recording = dir.resolve("r.jfr");
        ChildJvm.Result r = ChildJvm.workload(Workloads.Hello.class).as("nobody").in(dir)
                .agent("file=" + recording + ",probes=file+syscall").run(dir).assertSucceeded();
        assertTrue(r.output().contains("hello from 25"), r.output());
        List<String> warnings = r.agentLines().stream().filter(l -> l.contains("not attached")).toList();
        assertEquals(2, warnings.size(), r.output());
        for (String w : warnings) {
            assertTrue(w.startsWith("[jfr-ebpf] warn: probe ") && w.contains("not permitted"), w);
        }
        List<RecordedEvent> status = ofType(Recordings.read(recording), "ebpf.ProbeStatus");
        assertEquals(2, status.size());
        for (RecordedEvent s : status) {
            assertFalse(s.getBoolean("attached"), s.toString());
            assertTrue(s.getString("reason").contains("not permitted"), s.toString());
        }
    }
}
