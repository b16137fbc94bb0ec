package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Faults the application must survive without us leaving anything behind that looks right but is not. */
class FaultIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    /** kill -9 mid-recording: no program, link or attachment of ours stays in the kernel, and no recording pretends to be whole. */
    @Test
    void killDashNineLeavesNothingInTheKernel(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("child.log");
        Set<Long> before = programIds();
        Process p = ChildJvm.workload(Workloads.WaitForFile.class, dir.resolve("never").toString())
                .agent("file=" + dir.resolve("r.jfr") + ",probes=file+syscall").start(log);
        try {
            ChildJvm.awaitOutput(p, log, "ready pid=");
            assertFalse(HostTaxIT.perfShow(p.pid()).isEmpty(), "nothing attached: " + Files.readString(log));
            Set<Long> ours = new HashSet<>(programIds());
            ours.removeAll(before);
            assertFalse(ours.isEmpty(), "no BPF program loaded by " + p.pid());
            p.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, p.exitValue());
            // the kernel frees programs when their last fd closes; give it a moment
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((!HostTaxIT.perfShow(p.pid()).isEmpty() || !left(ours).isEmpty()) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(List.of(), HostTaxIT.perfShow(p.pid()), "attachments left after kill -9");
            assertEquals(Set.of(), left(ours), "programs left after kill -9");
            assertFalse(Files.exists(dir.resolve("r.jfr")), "a recording that was never finished");
            assertEquals(1, leftovers(dir).size(), "the killed JVM's temporary directory");
            // the next recording into the same directory removes what the killed JVM left
            ChildJvm.Result next = ChildJvm.workload(Workloads.Hello.class).agent("file=" + dir.resolve("next.jfr"))
                    .run(dir).assertSucceeded();
            assertTrue(next.output().contains("left by a JVM that ended before writing its recording"), next.output());
            assertEquals(List.of(), leftovers(dir), "temporary directories after the next recording");
            assertTrue(Files.exists(dir.resolve("next.jfr")));
        } finally {
            p.destroyForcibly();
        }
    }

    /** The file system fills up: the application goes on, one clear error, and no partial file at the destination. */
    @Test
    void aFullDiskIsOneErrorAndNoPartialFile(@TempDir Path dir) throws Exception {
        Path small = Files.createDirectory(dir.resolve("small"));
        run("mount", "-t", "tmpfs", "-o", "size=192k", "jfr-ebpf-test", small.toString());
        try {
            ChildJvm.Result r = ChildJvm.workload(Workloads.Busy.class, "1500").agent("file=" + small.resolve("r.jfr"))
                    .run(dir).assertSucceeded();
            assertTrue(r.output().contains("busy done"), r.output());
            List<String> errors = r.agentLines().stream().filter(l -> l.startsWith("[jfr-ebpf] error:")).toList();
            assertEquals(1, errors.size(), r.output());
            assertTrue(errors.get(0).contains(small.resolve("r.jfr").toString()), errors.get(0));
            assertFalse(Files.exists(small.resolve("r.jfr")), "partial recording at the destination");
            try (var left = Files.list(small)) {
                assertEquals(List.of(), left.toList(), "files left in the full directory");
            }
        } finally {
            run("umount", small.toString());
        }
    }

    private static List<Path> leftovers(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.filter(p -> p.getFileName().toString().startsWith(".jfr-ebpf-")).toList();
        }
    }

    /** The ids of every BPF program loaded in the kernel (bpftool prog show); ids are never reused while up. */
    static Set<Long> programIds() throws IOException, InterruptedException {
        Set<Long> ids = new HashSet<>();
        Matcher m = Pattern.compile("\\{\"id\":(\\d+),").matcher(run("bpftool", "-j", "prog", "show"));
        while (m.find()) {
            ids.add(Long.parseLong(m.group(1)));
        }
        return ids;
    }

    static Set<Long> left(Set<Long> ours) throws IOException, InterruptedException {
        Set<Long> left = new HashSet<>(programIds());
        left.retainAll(ours);
        return left;
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }
}
