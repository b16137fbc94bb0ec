package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The file probe end to end: exact counts, paths, errors and threads, through both attach paths. */
class FileOpenIT {
    static final int N = 25;

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    /** "" = the default probes (own-pid uprobes on libc); the other run goes through the syscall tracepoints. */
    @ParameterizedTest
    @ValueSource(strings = {"", "probes=file+syscall"})
    void everyOpenIsOneEventWithItsPathErrorAndJavaThread(String probes, @TempDir Path dir) throws Exception {
        Path data = Files.createDirectory(dir.resolve("data")).toRealPath();
        for (int i = 0; i < N; i++) {
            Files.writeString(data.resolve("f-" + i), "content " + i);
        }
        Files.writeString(data.resolve("relative.txt"), "relative");
        Path recording = dir.resolve("r.jfr");
        String options = "file=" + recording + (probes.isEmpty() ? "" : "," + probes);

        ChildJvm.Result result = ChildJvm.workload(Workloads.OpenFiles.class, data.toString(), String.valueOf(N))
                .agent(options).in(data).run(dir).assertSucceeded();
        Matcher tid = Pattern.compile("opener tid=(\\d+)").matcher(result.output());
        assertTrue(tid.find(), result.output());
        long openerTid = Long.parseLong(tid.group(1));

        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> ours = where(events, "ebpf.FileOpen", e -> e.getString("path").startsWith(data + "/"));
        assertEquals(N + 2, ours.size(), "opens under " + data + ": " + ours);

        Set<String> paths = new HashSet<>();
        for (RecordedEvent e : ours) {
            assertEquals("opener", javaName(e), "thread of " + e);
            assertEquals(openerTid, e.getThread().getOSThreadId(), "OS thread of " + e);
            assertTrue(e.getThread().getJavaThreadId() > 0, "java thread id of " + e);
            assertTrue(e.getString("flags").startsWith("O_RDONLY"), e.getString("flags"));
            assertTrue(!e.getDuration().isNegative() && e.getDuration().toMillis() < 1000, "duration " + e.getDuration());
            assertTrue(paths.add(e.getString("path")), "opened twice: " + e.getString("path"));
        }
        for (int i = 0; i < N; i++) {
            RecordedEvent e = only(ours, data.resolve("f-" + i).toString());
            assertTrue(e.getInt("fd") >= 0, "fd of " + e);
            assertNull(e.getString("error"));
        }
        RecordedEvent missing = only(ours, data.resolve("missing").toString());
        assertEquals("ENOENT", missing.getString("error"));
        assertEquals(-1, missing.getInt("fd"));
        RecordedEvent relative = only(ours, data.resolve("relative.txt").toString());
        assertTrue(relative.getInt("fd") >= 0);
        assertEquals(false, relative.getBoolean("pathTruncated"));
    }

    /** redact.paths: opens under the directory keep only the directory; the others are untouched. */
    @Test
    void pathsUnderARedactedDirectoryKeepOnlyTheDirectory(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectory(dir.resolve("data")).toRealPath();
        for (int i = 0; i < N; i++) {
            Files.writeString(data.resolve("f-" + i), "content " + i);
        }
        Files.writeString(data.resolve("relative.txt"), "relative");
        Path recording = dir.resolve("r.jfr");
        ChildJvm.workload(Workloads.OpenFiles.class, data.toString(), String.valueOf(N))
                .agent("file=" + recording + ",redact.paths=" + data).in(data).run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> ours = where(events, "ebpf.FileOpen", e -> e.getString("path").startsWith(data + "/"));
        assertEquals(N + 2, ours.size(), "opens under " + data + ": " + ours);
        for (RecordedEvent e : ours) {
            assertEquals(data + "/<redacted>", e.getString("path"), "recorded path");
        }
        assertEquals(1, ours.stream().filter(e -> "ENOENT".equals(e.getString("error"))).count(), "the missing file still fails");
        assertTrue(where(events, "ebpf.FileOpen", e -> e.getString("path").matches(".*/f-\\d+$")
                || e.getString("path").contains("relative.txt")).isEmpty(), "no name of the directory's files leaks");
        // (paths outside the directory are kept: PathRedactionTest; this JVM's other opens depend on
        // its class data sharing and timing, so they are no fixed sample here)
    }

    /**
     * Threads that end within a millisecond of their only open: most are gone before the agent
     * sees their event, and still get their Java thread (from the JVM recording's thread starts).
     */
    @Test
    void threadsThatEndAtOnceKeepTheirJavaThread(@TempDir Path dir) throws Exception {
        int n = 20;
        Path data = Files.createDirectory(dir.resolve("data")).toRealPath();
        for (int i = 0; i < n; i++) {
            Files.writeString(data.resolve("s-" + i), "short " + i);
        }
        Path recording = dir.resolve("r.jfr");
        ChildJvm.workload(Workloads.ShortLivedThreads.class, data.toString(), String.valueOf(n))
                .agent("file=" + recording).run(dir).assertSucceeded();
        List<RecordedEvent> ours = where(Recordings.read(recording), "ebpf.FileOpen",
                e -> e.getString("path").startsWith(data + "/"));
        assertEquals(n, ours.size(), "opens under " + data + ": " + ours);
        for (RecordedEvent e : ours) {
            String file = e.getString("path").substring(data.toString().length() + 1);
            assertEquals("short-" + file.substring(2), javaName(e), "thread of " + e);
            assertTrue(e.getThread().getJavaThreadId() > 0, "java thread id of " + e);
        }
    }

    /**
     * Work done by the main thread just before main returns is read by the agent after HotSpot's
     * DestroyJavaVM has taken the main thread's OS thread: it is still main's.
     */
    @Test
    void opensOfTheMainThreadJustBeforeItEndsAreMains(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("last.txt"), "last").toRealPath();
        Path recording = dir.resolve("r.jfr");
        ChildJvm.Result r = ChildJvm.workload(Workloads.OpensAtTheEndOfMain.class, file.toString(), "50")
                .agent("file=" + recording + ",probes=file").run(dir).assertSucceeded();
        Matcher id = Pattern.compile("main id=(\\d+)").matcher(r.output());
        assertTrue(id.find(), r.output());
        List<RecordedEvent> opens = where(Recordings.read(recording), "ebpf.FileOpen", e -> e.getString("path").equals(file.toString()));
        assertEquals(50, opens.size(), opens.toString());
        for (RecordedEvent e : opens) {
            assertEquals("main", javaName(e), "thread of " + e);
            assertEquals(Long.parseLong(id.group(1)), e.getThread().getJavaThreadId(), "main's Java thread id: " + e.getThread());
        }
    }

    private static RecordedEvent only(List<RecordedEvent> events, String path) {
        List<RecordedEvent> matching = events.stream().filter(e -> e.getString("path").equals(path)).toList();
        assertEquals(1, matching.size(), "events for " + path);
        return matching.get(0);
    }
}
