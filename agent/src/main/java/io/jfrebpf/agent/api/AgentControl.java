package io.jfrebpf.agent.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What code in the traced JVM may ask of the agent (the JUnit extension does): whether it is
 * recording, waiting for its probes, what each probe did, and a dump of the recording so far.
 * Shipped alone as the {@code api} jar of the agent module, so that a caller compiles against
 * it without the agent; the agent, once loaded into the JVM (by {@code -javaagent:} or an
 * attach), registers itself here. Before that every answer is "not recording".
 */
public final class AgentControl {
    /** The running agent's side of this API. */
    public interface Controller {
        boolean recording();

        boolean awaitAttached(Duration timeout);

        Map<String, String> probeStates();

        Path dump(Path file);
    }

    private static volatile Controller controller;

    private AgentControl() {
    }

    /** For the agent: called once it is loaded. */
    public static void register(Controller agent) {
        controller = agent;
    }

    /** Whether an agent is recording (or starting to) in this JVM. */
    public static boolean recording() {
        Controller c = controller;
        return c != null && c.recording();
    }

    /** Waits until the recording's probes are attached (or failed); false when not recording or the time ran out. */
    public static boolean awaitAttached(Duration timeout) {
        Controller c = controller;
        return c != null && c.awaitAttached(timeout);
    }

    /** Each probe asked for: "attached: how" or "not attached: why"; empty when not recording. */
    public static Map<String, String> probeStates() {
        Controller c = controller;
        return c == null ? Map.of() : c.probeStates();
    }

    /** Writes the recording so far to {@code file} (the recording goes on); the file, or null when not recording or it failed. */
    public static Path dump(Path file) {
        Controller c = controller;
        return c == null ? null : c.dump(file);
    }
}
