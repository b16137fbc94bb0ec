package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM in a pid namespace of its own, as in nearly every container: Java and HotSpot know it
 * as pid 1, the kernel's programs see its host pid. Before the probes compared ids in the host's
 * namespace and reported them in the JVM's, such a JVM recorded nothing but ProbeStatus.
 */
class PidNamespaceIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @Test
    void aJvmInItsOwnPidNamespaceIsTracedOnItsJavaThreads(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("ns.jfr");
        ChildJvm.Result r = ChildJvm.workload(CpuBurn.class, "1", "2").inPidNamespace()
                .agent("file=" + recording + ",probes=cpu+offcpu+file").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);
        long burner = Recordings.where(events, "ebpf.CPUSample",
                e -> e.getThread() != null && "burner-0".equals(e.getThread().getJavaName())).size();
        assertTrue(burner > 100, "CPU samples on the Java thread burner-0 (99 Hz for 2 s): " + burner + "\n" + r.output());
        assertTrue(!Recordings.ofType(events, "ebpf.FileOpen").isEmpty(), "file opens (own-pid uprobes in the namespace)");
        assertTrue(!Recordings.ofType(events, "ebpf.OffCPU").isEmpty(), "off-CPU stretches");
    }

    @Test
    void connectionsOfAJvmInItsOwnPidNamespaceAreItsOwn(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("tcp.jfr");
        ChildJvm.Result r = ChildJvm.workload(TcpWorkloads.Exchange.class, "127.0.0.1", "5", "100", "100").inPidNamespace()
                .agent("file=" + recording + ",probes=tcp").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> connects = Recordings.where(events, "ebpf.TcpConnect", e -> e.getString("error") == null);
        assertEquals(6, connects.size(), "5 and the one kept open:\n" + r.output());
        assertTrue(connects.stream().allMatch(e -> e.getThread() != null && "tcp-client".equals(e.getThread().getJavaName())),
                connects.toString());
    }
}
