package io.jfrebpf.junit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import net.bytebuddy.agent.ByteBuddyAgent;

/**
 * The agent in this JVM, through its declared control API ({@link io.jfrebpf.agent.api.AgentControl},
 * the agent module's api jar; the agent registers with it when {@code -javaagent:} or an attach
 * loads it): is it recording, what did each probe do, and a dump of the recording so far.
 * Attaches it when it is not there.
 */
final class AgentControl {
    static final String JAR_PROPERTY = "jfrebpf.agent.jar";
    static final String JAR_ENV = "JFR_EBPF_AGENT_JAR";

    private AgentControl() {
    }

    /** How long the first test waits for an agent started with -javaagent to attach its probes. */
    static final long ATTACH_WAIT_MS = 30_000;

    static synchronized void ensureRecording(String options, Path directory) throws Exception {
        if (recording()) {
            awaitAttached(); // -javaagent: the agent attaches its probes on its own thread while the JVM starts
            return;
        }
        Path jar = agentJar();
        Files.createDirectories(directory);
        String file = directory.resolve("junit-%p-%t.jfr").toString();
        String args = options.contains("file=") ? options : options + (options.isBlank() ? "" : ",") + "file=" + file;
        ByteBuddyAgent.attach(jar.toFile(), String.valueOf(ProcessHandle.current().pid()), args);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!recording() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        if (!recording()) {
            throw new IllegalStateException("the jfr-ebpf agent was attached from " + jar + " with '" + args
                    + "' but is not recording: see its [jfr-ebpf] lines on stderr");
        }
    }

    static Path agentJar() {
        String name = System.getProperty(JAR_PROPERTY, System.getenv(JAR_ENV));
        if (name == null || name.isBlank()) {
            throw new IllegalStateException("@EbpfRecording needs the agent: run the tests with -javaagent:jfr-ebpf-agent.jar, "
                    + "or set the system property " + JAR_PROPERTY + " (or " + JAR_ENV + ") to the jar's path");
        }
        Path jar = Path.of(name).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(JAR_PROPERTY + " names " + jar + ", which is not a file");
        }
        return jar;
    }

    static boolean recording() {
        return io.jfrebpf.agent.api.AgentControl.recording();
    }

    /** Waits until the agent's probes are attached (or failed), so that the first test's events are seen. */
    static void awaitAttached() {
        io.jfrebpf.agent.api.AgentControl.awaitAttached(Duration.ofMillis(ATTACH_WAIT_MS));
    }

    static Map<String, String> probeStates() {
        return io.jfrebpf.agent.api.AgentControl.probeStates();
    }

    /** The recording so far, written to {@code file}; the recording goes on. */
    static Path dump(Path file) {
        Path written = io.jfrebpf.agent.api.AgentControl.dump(file);
        if (written == null) {
            throw new IllegalStateException("the jfr-ebpf agent could not write its recording so far to " + file
                    + ": see its [jfr-ebpf] lines on stderr");
        }
        return written;
    }

    static File temporaryDirectory() {
        return new File(System.getProperty("java.io.tmpdir"));
    }
}
