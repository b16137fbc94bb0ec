package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A JVM started by a test with the built agent jar, running a workload class of the test
 * sources: the real {@code -javaagent:} path, end to end. It runs with -XX:+PreserveFramePointer
 * unless {@link #withoutFramePointers()} says otherwise.
 */
final class ChildJvm {
    static final Path AGENT_JAR = Path.of(System.getProperty("jfrebpf.agent.jar", "target/jfr-ebpf-agent.jar")).toAbsolutePath();
    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    static final Path TEST_CLASSES = Path.of(System.getProperty("jfrebpf.test.classes", "target/test-classes")).toAbsolutePath();

    private final List<String> command = new ArrayList<>();
    private Path directory;
    private final List<String> prefix = new ArrayList<>();
    private Path java = JAVA;
    private String agentOptions;
    private final List<String> jvmFlags = new ArrayList<>(List.of("-XX:+PreserveFramePointer", "--enable-native-access=ALL-UNNAMED"));
    private String mainClass;
    private String classPath = TEST_CLASSES.toString();
    private final List<String> args = new ArrayList<>();
    private final java.util.Map<String, String> environment = new java.util.HashMap<>();

    static ChildJvm workload(Class<?> main, String... args) {
        ChildJvm c = new ChildJvm();
        c.mainClass = main.getName();
        c.args.addAll(Arrays.asList(args));
        return c;
    }

    /** A main class from another class path (e.g. compiled for an older JDK). */
    static ChildJvm main(Path classPath, String mainClass, String... args) {
        ChildJvm c = new ChildJvm();
        c.classPath = classPath.toString();
        c.mainClass = mainClass;
        c.args.addAll(Arrays.asList(args));
        return c;
    }

    /** Adds a jar or directory after the class path (e.g. a driver the workload uses). */
    ChildJvm alsoOnClassPath(Path entry) {
        classPath = classPath + File.pathSeparator + entry.toAbsolutePath();
        return this;
    }

    /**
     * With the agent and these options. A test counts what its workload does from its first line,
     * so the workload's main waits until the probes are attached ({@code startup=wait}) unless the
     * options say otherwise.
     */
    ChildJvm agent(String options) {
        this.agentOptions = options.contains("startup=") ? options : options.isEmpty() ? "startup=wait" : options + ",startup=wait";
        return this;
    }

    ChildJvm java(Path javaBinary) {
        this.java = javaBinary;
        jvmFlags.remove("--enable-native-access=ALL-UNNAMED");
        return this;
    }

    ChildJvm flag(String flag) {
        jvmFlags.add(flag);
        return this;
    }

    /** Without -XX:+PreserveFramePointer, as a JVM one attaches to usually runs: JIT code keeps no frame pointers. */
    ChildJvm withoutFramePointers() {
        jvmFlags.remove("-XX:+PreserveFramePointer");
        return this;
    }

    ChildJvm in(Path dir) {
        this.directory = dir;
        return this;
    }

    /** Runs the JVM in a network namespace, through ip netns exec. */
    ChildJvm netns(String name) {
        prefix.addAll(List.of("ip", "netns", "exec", name));
        return this;
    }

    /** Starts the JVM inside these cgroups (their cgroup.procs files), through sh: its first thread is already in them. */
    ChildJvm inCgroups(List<Path> procsFiles) {
        StringBuilder script = new StringBuilder();
        for (Path f : procsFiles) {
            script.append("echo $$ > '").append(f).append("' && ");
        }
        script.append("exec \"$0\" \"$@\"");
        prefix.addAll(List.of("sh", "-c", script.toString()));
        return this;
    }

    ChildJvm env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    /** Runs the JVM in a pid namespace of its own (as in a container: it is pid 1 there), through unshare. */
    ChildJvm inPidNamespace() {
        prefix.addAll(List.of("unshare", "--pid", "--fork", "--mount-proc"));
        return this;
    }

    /** Runs the JVM as another user, through runuser. */
    ChildJvm as(String user) {
        prefix.addAll(List.of("runuser", "-u", user, "--"));
        return this;
    }

    /** Runs the JVM as user nobody holding only these capabilities (e.g. "bpf", "perfmon"), through setpriv. */
    ChildJvm asNobodyWith(String... capabilities) {
        String caps = String.join(",", Arrays.stream(capabilities).map(c -> "+" + c).toList());
        prefix.addAll(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=" + caps,
                "--ambient-caps=" + caps, "--"));
        return this;
    }

    List<String> command() {
        command.clear();
        command.addAll(prefix);
        command.add(java.toString());
        command.addAll(jvmFlags);
        if (agentOptions != null) {
            command.add("-javaagent:" + AGENT_JAR + (agentOptions.isEmpty() ? "" : "=" + agentOptions));
        }
        command.addAll(List.of("-cp", classPath, mainClass));
        command.addAll(args);
        return command;
    }

    Process start(Path log) throws IOException {
        assertTrue(Files.isRegularFile(AGENT_JAR), "agent jar not built: " + AGENT_JAR);
        ProcessBuilder pb = new ProcessBuilder(command()).redirectErrorStream(true).redirectOutput(log.toFile());
        if (directory != null) {
            pb.directory(directory.toFile());
        }
        pb.environment().remove("JFR_EBPF_OPTIONS");
        pb.environment().putAll(environment);
        return pb.start();
    }

    /** Waits (at most 60 s, or until the process ends) for {@code text} in the log of a started child. */
    static void awaitOutput(Process p, Path log, String text) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains(text) && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(50);
        }
        assertTrue(Files.readString(log).contains(text), "no '" + text + "' in:\n" + Files.readString(log));
    }

    /** Runs to completion (at most 2 minutes) and returns exit code and output. */
    Result run(Path workDir) throws IOException, InterruptedException {
        Path log = Files.createTempFile(workDir, "child", ".log");
        Process p = start(log);
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("child JVM did not finish in 2 minutes: " + command() + "\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log), command());
    }

    record Result(int exitCode, String output, List<String> command) {
        Result assertSucceeded() {
            assertEquals(0, exitCode, "child JVM failed: " + command + "\n" + output);
            return this;
        }

        /** The agent's own lines. */
        List<String> agentLines() {
            return output.lines().filter(l -> l.startsWith("[jfr-ebpf]")).toList();
        }
    }
}
