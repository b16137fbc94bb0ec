package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.ofType;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.events.read.FrameTypes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import javax.tools.ToolProvider;
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
        Path classes = compileForJdk17(dir, "Hello17", "public class Hello17 { public static void main(String[] a) {"
                + " System.out.println(\"hello from \" + System.getProperty(\"java.version\")); } }");
        ChildJvm.Result r = ChildJvm.main(classes, "Hello17").java(JDK17).agent("file=" + dir.resolve("r.jfr"))
                .run(dir).assertSucceeded();
        assertEquals(1, r.agentLines().size(), r.output());
        String line = r.agentLines().get(0);
        assertTrue(line.startsWith("[jfr-ebpf] warn: Java 17") && line.contains("too old for jfr-ebpf")
                && line.endsWith("the application runs untraced"), line);
        assertTrue(r.output().contains("hello from 17"), r.output());
        assertFalse(Files.exists(dir.resolve("r.jfr")));
    }

    /**
     * The least privilege, measured: as user nobody with only CAP_BPF and CAP_PERFMON every
     * default probe attaches and traces — the syscall probe's tracepoints, the CPU sampler's
     * perf events, the off-CPU scheduler hook, the file and tcp probes' uprobes and the malloc
     * probe's, which are uprobe_multi links and uprobe sessions on this kernel (6.6+, 6.13+).
     * Only the perf uprobes of older kernels need CAP_SYS_ADMIN, and the warning says so.
     */
    @Test
    void capBpfAndPerfmonSufficeForEveryDefaultProbe(@TempDir Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path two = dir.resolve("two.jfr");
        ChildJvm.Result r = ChildJvm.workload(Workloads.Hello.class).asNobodyWith("bpf", "perfmon").in(dir)
                .agent("file=" + two + ",probes=syscall").run(dir).assertSucceeded();
        assertTrue(attached(two, "syscall"), r.output());

        Path data = Files.createDirectory(dir.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxrwxrwx"));
        for (int i = 0; i < 3; i++) {
            Files.writeString(data.resolve("f-" + i), "x");
        }
        Files.writeString(data.resolve("relative.txt"), "x");
        Path uprobes = dir.resolve("uprobes.jfr");
        r = ChildJvm.workload(Workloads.OpenFiles.class, data.toString(), "3").asNobodyWith("bpf", "perfmon").in(data)
                .agent("file=" + uprobes).run(dir).assertSucceeded();
        for (String probe : List.of("cpu", "offcpu", "file", "tcp", "postgres")) {
            assertTrue(attached(uprobes, probe), probe + ": " + r.output());
        }
        String dataDir = data.toRealPath() + "/";
        assertEquals(5, Recordings.where(Recordings.read(uprobes), "ebpf.FileOpen",
                e -> "opener".equals(Recordings.javaName(e)) && e.getString("path").startsWith(dataDir)).size(),
                "the opener's 3 opens, the missing file and the relative one: " + r.output());
        // the kernel names its own frames (bpf_snprintf's %pS in a syscall program): no CAP_SYSLOG, kallsyms unread
        assertTrue(Recordings.read(uprobes).stream().filter(e -> e.getStackTrace() != null)
                .flatMap(e -> e.getStackTrace().getFrames().stream())
                .anyMatch(f -> FrameTypes.KERNEL.equals(f.getType()) && !f.getMethod().getName().startsWith("0x")), r.output());
        assertFalse(r.output().contains("named from /proc/kallsyms"), r.output());

        // the malloc probe's uprobe sessions and free's uprobe_multi link too (every call sampled)
        Path malloc = dir.resolve("malloc.jfr");
        r = ChildJvm.workload(Workloads.Hello.class).asNobodyWith("bpf", "perfmon").in(dir)
                .agent("file=" + malloc + ",probes=malloc,malloc.interval=0").run(dir).assertSucceeded();
        assertTrue(attached(malloc, "malloc"), r.output());
        assertFalse(Recordings.ofType(Recordings.read(malloc), "ebpf.NativeAllocation").isEmpty(), r.output());
    }

    private static boolean attached(Path recording, String probe) throws Exception {
        return ofType(Recordings.read(recording), "ebpf.ProbeStatus").stream()
                .filter(s -> s.getString("probe").equals(probe)).findFirst()
                .orElseThrow(() -> new AssertionError("no ProbeStatus for " + probe)).getBoolean("attached");
    }

    /** A service built for JDK 17, as such a service would be (our test classes are JDK 25 class files). */
    private static Path compileForJdk17(Path dir, String name, String source) throws Exception {
        Path src = Files.createDirectories(dir.resolve("src17")).resolve(name + ".java");
        Files.writeString(src, source);
        Path out = Files.createDirectories(dir.resolve("classes17"));
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "--release", "17", "-d", out.toString(), src.toString());
        assertEquals(0, rc, "javac --release 17 failed");
        return out;
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

    /** With no probe attached the agent's thread must idle, not spin a CPU over an empty poller (it did). */
    @Test
    void withNoProbeAttachedTheAgentsThreadIdles(@TempDir Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path recording = dir.resolve("idle.jfr");
        ChildJvm.Result r = ChildJvm.workload(Workloads.Sleeper.class, "3000").as("nobody").in(dir)
                .agent("file=" + recording + ",probes=cpu+file").run(dir).assertSucceeded();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("agent's thread used (\\d+) ms CPU, (\\d+) ms of it starting")
                .matcher(r.output());
        assertTrue(m.find(), r.output());
        long idle = Long.parseLong(m.group(1)) - Long.parseLong(m.group(2));
        assertTrue(idle < 200, "3 s with nothing to poll: " + idle + " ms CPU after the start\n" + r.output());
    }

    /**
     * Beside async-profiler sampling every millisecond (signals to every thread), the BPF
     * verifier used to give up with EAGAIN: no probe loaded. The agent holds its thread's signals
     * while loading.
     */
    @Test
    void probesLoadBesideAsyncProfilerSignallingEveryMillisecond(@TempDir Path dir) throws Exception {
        Path lib = AsyncProfilerLibrary.extractTo(dir);
        Path recording = dir.resolve("beside.jfr");
        ChildJvm.Result r = ChildJvm.workload(CpuBurn.class, "1", "2")
                .flag("-agentpath:" + lib + "=start,event=cpu,interval=1ms,file=" + dir.resolve("ap.txt") + ",collapsed")
                .agent("file=" + recording + ",probes=cpu+file").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);
        for (RecordedEvent s : ofType(events, "ebpf.ProbeStatus")) {
            assertTrue(s.getBoolean("attached"), s + "\n" + r.output());
        }
        assertTrue(ofType(events, "ebpf.CPUSample").size() > 50, r.output());
    }
}
