package io.jfrebpf.agent;

import io.jfrebpf.agent.api.AgentControl;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one recording of this JVM (a {@link Session}), from its start to its end, and what may be
 * asked of it: by the JVM's own code through the declared control API ({@link AgentControl}: the
 * JUnit extension), and by the {@code dump} and {@code stop} commands, which load the agent again
 * with {@link #DUMP_COMMAND} or {@link #STOP_COMMAND}. Before a recording starts and after it
 * ends, every answer is "not recording". It knows the recording only by what may be asked of it,
 * so that the recording ({@code Agent}) uses this class and not the other way round.
 */
final class Control implements AgentControl.Controller {
    /** What {@code java -jar jfr-ebpf-agent.jar stop <pid>} passes to the agent it loads again. */
    static final String STOP_COMMAND = "!stop";
    /** ... and {@code dump <pid> [file=...]}: {@code !dump} or {@code !dump=/absolute/file.jfr}. */
    static final String DUMP_COMMAND = "!dump";

    private static final Object LOCK = new Object();
    private static final Control CONTROL = new Control();
    private static Session current;

    /** What may be asked of the one recording of this JVM. */
    interface Session {
        /** The output file; null until the start-up has named it. */
        Path output();

        /** Waits at most {@code millis} until the start-up is over (probes attached, or failed); true when it is. */
        boolean awaitStarted(long millis);

        /** Each probe asked for: "attached: how" or "not attached: why". */
        Map<String, String> probeStates();

        /** Writes the recording so far to {@code target} while it goes on. */
        void dump(Path target) throws Exception;

        /** Ends the recording now (for {@code why}) and writes the file. */
        void end(String why);
    }

    static {
        AgentControl.register(CONTROL);
    }

    private Control() {
    }

    /**
     * Runs {@code agentArgs} when it is a command of {@code dump} or {@code stop} (given to a
     * dynamic attach); false when it is not one, and a recording is to start.
     */
    static boolean command(String agentArgs) {
        if (agentArgs != null && agentArgs.startsWith(DUMP_COMMAND)) {
            String file = agentArgs.substring(DUMP_COMMAND.length());
            Path written = CONTROL.dump(file.startsWith("=") ? Path.of(file.substring(1)) : null);
            if (written == null) {
                Log.warn("dump: the agent is not recording in this JVM");
            }
            return true;
        }
        if (STOP_COMMAND.equals(agentArgs)) {
            Path written = stop();
            if (written == null) {
                Log.warn("stop: the agent is not recording in this JVM");
            }
            return true;
        }
        return false;
    }

    /** Makes {@code session} the recording of this JVM; false (with a warning) when one is already there. */
    static boolean begin(Session session) {
        synchronized (LOCK) {
            if (current != null) {
                Log.warn("the agent is already recording to %s; ignoring a second start",
                        current.output() == null ? "its file" : current.output());
                return false;
            }
            current = session;
            return true;
        }
    }

    /** Forgets {@code session} (it ended, or never started): the next start may try again. */
    static void end(Session session) {
        synchronized (LOCK) {
            if (current == session) {
                current = null;
            }
        }
    }

    private static Session current() {
        synchronized (LOCK) {
            return current;
        }
    }

    /** Whether the agent is recording (or starting to) in this JVM. */
    @Override
    public boolean recording() {
        return current() != null;
    }

    /**
     * Waits at most {@code timeout} until the recording's probes are attached (or failed); false
     * when no recording is starting or running, or the time ran out.
     */
    @Override
    public boolean awaitAttached(Duration timeout) {
        Session a = current();
        return a != null && a.awaitStarted(timeout.toMillis()) && recording();
    }

    /** Each probe asked for: "attached: how" or "not attached: why" (empty when not recording), to explain a missing event. */
    @Override
    public Map<String, String> probeStates() {
        Session a = current();
        return a == null ? new LinkedHashMap<>() : a.probeStates();
    }

    /**
     * Writes the recording so far to {@code file} (default: next to the output, named by the
     * time) while it goes on; returns the file, or null when not recording or on failure.
     */
    @Override
    public Path dump(Path file) {
        Session a = current();
        if (a == null) {
            return null;
        }
        Path target = file != null ? file.toAbsolutePath() : a.output().resolveSibling(dumpName(a.output().getFileName().toString()));
        try {
            a.dump(target);
            Log.info("recording so far written to %s (the recording goes on)", target);
            return target;
        } catch (Throwable t) {
            Log.error("could not dump the recording to %s: %s", target, Failures.explain(t));
            return null;
        }
    }

    static String dumpName(String output) {
        String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .format(java.time.LocalDateTime.now());
        return (output.endsWith(".jfr") ? output.substring(0, output.length() - 4) : output) + "-dump-" + stamp + ".jfr";
    }

    /** Ends the running recording now and writes the file; the file, or null when not recording. */
    static Path stop() {
        Session a = current();
        if (a == null) {
            return null;
        }
        a.end("stopped");
        return a.output();
    }
}
