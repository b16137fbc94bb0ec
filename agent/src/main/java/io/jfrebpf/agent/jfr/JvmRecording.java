package io.jfrebpf.agent.jfr;

import io.jfrebpf.agent.Log;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.text.ParseException;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.RecordingState;

/**
 * The JVM's own JFR recording, merged into our file. It is written to a destination with
 * dump-on-exit, because at JVM exit JFR's shutdown hook runs concurrently with ours and may
 * stop the recording first: then JFR itself writes the destination and {@link #finish()} waits
 * for it instead of losing the JVM's events.
 */
public final class JvmRecording implements AutoCloseable {
    public static final long WAIT_FOR_JFR_MS = 10_000;
    static final long STALLED_MS = 1_000;

    private volatile Recording recording;
    private final Path destination;
    private final Map<String, String> configuration;

    private JvmRecording(Recording recording, Path destination, Map<String, String> configuration) {
        this.recording = recording;
        this.destination = destination;
        this.configuration = configuration;
    }

    /**
     * Committed on each virtual thread as it ends, with its name: off in JFR's settings, on in the
     * agent's (cost: docs/virtual-threads.md).
     */
    static final String VIRTUAL_THREAD_END_EVENT = "jdk.VirtualThreadEnd";

    /** JFR's event holding every environment variable of the JVM: off unless asked for (they often carry secrets). */
    static final String ENVIRONMENT_EVENT = "jdk.InitialEnvironmentVariable";

    public static JvmRecording start(JfrSettings settings, Path workDir, boolean environment) throws IOException {
        if (settings == JfrSettings.NONE) {
            return new JvmRecording(null, null, null);
        }
        Configuration configuration;
        try {
            configuration = Configuration.getConfiguration(settings.key());
        } catch (ParseException e) {
            throw new IOException("JFR settings '" + settings.key() + "' cannot be read: " + e.getMessage(), e);
        }
        Path destination = workDir.resolve("jvm.jfr");
        Map<String, String> chosen = new HashMap<>(configuration.getSettings());
        // names the virtual threads that ended before the agent could read their names (JvmThreadStarts)
        chosen.put(VIRTUAL_THREAD_END_EVENT + "#enabled", "true");
        if (!environment) {
            chosen.put(ENVIRONMENT_EVENT + "#enabled", "false");
        }
        return new JvmRecording(begin(chosen, destination), destination, chosen);
    }

    private static Recording begin(Map<String, String> settings, Path destination) throws IOException {
        Recording r = new Recording(settings);
        r.setName("jfr-ebpf");
        r.setToDisk(true);
        r.setDestination(destination);
        r.setDumpOnExit(true);
        r.start();
        return r;
    }

    /**
     * Ends a slice (interval=): a new recording starts, then the running one stops and is written
     * to {@code file}; returns it, or null with {@code jfr=none}. The two overlap for the moment
     * between: an event of that moment can be in both slices, none is in neither.
     */
    public Path rotate(Path file) throws IOException {
        Recording old = recording;
        if (old == null) {
            return null;
        }
        if (old.getState() != RecordingState.RUNNING) {
            // JFR's shutdown hook stopped it: JFR is going away, and a recording begun now would wait for it forever
            throw new IOException("the JVM's recording is " + old.getState() + ": JFR is shutting down");
        }
        recording = begin(configuration, destination);
        try {
            old.setDumpOnExit(false);
            old.setDestination(file);
            old.stop(); // writes file, then closes the recording
            if (old.getState() != RecordingState.CLOSED) {
                // JFR logs a failed write instead of throwing, and leaves the recording stopped: at exit
                // its shutdown hook can delete the repository's chunk files while they are copied
                throw new IOException("JFR could not write the JVM's events of this slice, which are lost (see its message above)");
            }
        } catch (IllegalStateException e) {
            throw new IOException("the JVM's recording could not be cut into a slice: " + e.getMessage(), e);
        } finally {
            old.close();
        }
        return file;
    }

    /** Stops the recording and returns the file holding it, or null with {@code jfr=none}. */
    public Path finish() throws IOException {
        if (recording == null) {
            return null;
        }
        try {
            recording.stop();
        } catch (IllegalStateException alreadyStopped) {
            // JFR's shutdown hook got there first and writes the destination itself. Wait while
            // the recording runs, then while JFR writes (STOPPED, file growing); JFR closes it
            // when written. A write that failed (disk full) leaves it STOPPED with a file that
            // no longer grows: give up STALLED_MS after it last grew, so the JVM's exit is not
            // held; until the file exists, wait up to WAIT_FOR_JFR_MS.
            long deadline = System.nanoTime() + WAIT_FOR_JFR_MS * 1_000_000L;
            while (recording.getState() == RecordingState.RUNNING && System.nanoTime() < deadline) {
                sleep();
            }
            long size = -1;
            long grewAt = System.nanoTime();
            while (recording.getState() == RecordingState.STOPPED && !complete() && System.nanoTime() < deadline
                    && (size < 0 || System.nanoTime() - grewAt < STALLED_MS * 1_000_000L)) {
                long now = sizeOf(destination); // -1 until JFR creates it: a slow start is not a stall
                if (now != size) {
                    size = now;
                    grewAt = System.nanoTime();
                }
                sleep();
            }
        }
        close();
        if (!complete()) {
            Log.warn("the JVM's own recording was not written (JFR could not finish %s; see its message above);"
                    + " the file holds our events only", destination.getFileName());
            return null;
        }
        return destination;
    }

    /** The JVM's events so far, written to {@code file} while the recording goes on; null with {@code jfr=none}. */
    public Path snapshot(Path file) throws IOException {
        if (recording == null) {
            return null;
        }
        recording.dump(file);
        return file;
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }

    private boolean complete() {
        try {
            return Files.size(destination) > ChunkHeader.LENGTH && !ChunkHeader.readAll(destination).isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (recording != null) {
            try {
                recording.close();
            } catch (RuntimeException ignored) {
                // already closed by JFR's shutdown
            }
        }
    }
}
