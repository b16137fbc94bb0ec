package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.item.ItemFilters;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;

/**
 * Long-running mode: interval= cuts the recording into whole recordings, maxfiles= bounds them
 * on disk; a kill -9 loses the slice in progress, never the ones before it.
 */
class SlicesIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    static List<Path> slices(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("burn-\\d+-\\d{8}-\\d{6}(-\\d+)?\\.jfr")).sorted().toList();
        }
    }

    @Test
    void slicesRotateAreCappedAndEachIsAWholeRecording(@TempDir Path dir) throws Exception {
        ChildJvm.Result r = ChildJvm.workload(CpuBurn.class, "1", "6.5")
                .agent("file=" + dir.resolve("burn-%p.jfr") + ",probes=cpu,interval=1s,maxfiles=3").run(dir).assertSucceeded();
        long written = r.agentLines().stream().filter(l -> l.contains("slice written to")).count();
        assertTrue(written >= 5, "a slice a second for 6.5 s:\n" + r.output());
        assertTrue(r.agentLines().stream().anyMatch(l -> l.contains("last slice written to")), r.output());
        List<Path> left = slices(dir);
        assertEquals(3, left.size(), "maxfiles=3: " + left + "\n" + r.output());
        assertTrue(r.agentLines().stream().filter(l -> l.contains("deleted (maxfiles=3")).count() >= 3, r.output());
        for (Path slice : left) {
            List<RecordedEvent> events = Recordings.read(slice);
            assertFalse(Recordings.ofType(events, "ebpf.CPUSample").isEmpty(), "samples in " + slice);
            assertFalse(Recordings.ofType(events, "ebpf.ProbeStatus").isEmpty(), "each slice says how its probes did: " + slice);
            IItemCollection jmc = JfrLoaderToolkit.loadEvents(slice.toFile());
            assertTrue(jmc.apply(ItemFilters.type("ebpf.CPUSample")).hasItems(), "JMC's parser reads " + slice);
        }
    }

    @Test
    void aKill9LosesTheSliceInProgressNotTheOnesBefore(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("child.log");
        Process p = ChildJvm.workload(CpuBurn.class, "1", "60")
                .agent("file=" + dir.resolve("burn-%p.jfr") + ",probes=cpu,interval=1s").start(log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Files.readString(log).split("slice written to", -1).length - 1 < 3 && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(100);
        }
        p.destroyForcibly(); // SIGKILL
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = Files.readString(log);
        List<Path> left = slices(dir);
        assertTrue(left.size() >= 3, "the slices written before the kill: " + left + "\n" + out);
        for (Path slice : left) {
            assertFalse(Recordings.ofType(Recordings.read(slice), "ebpf.CPUSample").isEmpty(), "intact: " + slice);
        }
    }
}
