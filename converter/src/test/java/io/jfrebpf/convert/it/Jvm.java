package io.jfrebpf.convert.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** JVMs the golden tests start: a workload under the real agent, and the shaded converter CLI. */
final class Jvm {
    static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");
    static final Path AGENT = Path.of(System.getProperty("jfrebpf.agent.jar", "../agent/target/jfr-ebpf-agent.jar")).toAbsolutePath();
    static final Path CONVERT = Path.of(System.getProperty("jfrebpf.convert.jar", "target/jfr-ebpf-convert.jar")).toAbsolutePath();
    static final Path TEST_CLASSES = Path.of(System.getProperty("jfrebpf.test.classes", "target/test-classes")).toAbsolutePath();

    record Result(int exit, String out) {
    }

    private Jvm() {
    }

    /** Records {@link Burner} under the agent (probes=cpu at 199 Hz) into {@code file}. */
    static Path burn(Path file, int hot, int cold, int iterations) throws Exception {
        return burn(file, List.of("-XX:+PreserveFramePointer"), hot, cold, iterations, 0);
    }

    /**
     * Records {@link Burner} under the agent with these JVM flags, {@code depth} calls down; from
     * main's first line (startup=wait), as a CI capture records, so that the work is all in it.
     */
    static Path burn(Path file, List<String> flags, int hot, int cold, int iterations, int depth) throws Exception {
        assertTrue(Files.isRegularFile(AGENT), "agent jar not built: " + AGENT);
        List<String> cmd = new ArrayList<>(List.of(JAVA.toString()));
        cmd.addAll(flags);
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-javaagent:" + AGENT + "=file=" + file + ",probes=cpu,cpu.hz=199,startup=wait",
                "-cp", TEST_CLASSES.toString(), Burner.class.getName(), String.valueOf(hot), String.valueOf(cold),
                String.valueOf(iterations), String.valueOf(depth)));
        Result r = run(cmd);
        assertEquals(0, r.exit(), r.out());
        assertTrue(Files.size(file) > 0, r.out());
        return file;
    }

    /** Runs the converter CLI jar. */
    static Result convert(String... args) throws Exception {
        assertTrue(Files.isRegularFile(CONVERT), "converter jar not built: " + CONVERT);
        List<String> cmd = new ArrayList<>(List.of(JAVA.toString(), "-jar", CONVERT.toString()));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "timed out: " + cmd);
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
