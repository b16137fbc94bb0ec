package io.jfrebpf.agent;

import io.jfrebpf.agent.jfr.JfrFiles;
import io.jfrebpf.agent.jfr.JvmRecording;
import io.jfrebpf.agent.probe.BackgroundWork;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code interval=}: cuts the recording into slices ({@link Slices}: their files and bounds).
 * Every interval, on the poller thread (the one that writes events), the current slice ends: our
 * chunks so far and the JVM's recording of the slice are merged into the slice's file on the
 * background thread, which then bounds the slices on disk. The last slice is what the end of the
 * recording writes.
 */
final class SliceCutter {
    private final Slices slices;
    private final Options options;
    private final long intervalNs;
    private final Path workDir;
    private final JvmRecording jvmRecording;
    private final Recording recording;
    private final ProbeStates probes;
    private final BackgroundWork background;
    private Instant sliceStart;
    private long nextSliceNs;
    private int slicesCut;

    /** The first slice began at {@code start} ({@code startNs} of System.nanoTime()). */
    SliceCutter(Options options, Instant start, long startNs, Path workDir, JvmRecording jvmRecording, Recording recording,
            ProbeStates probes, BackgroundWork background) {
        Duration interval = options.interval().orElseThrow();
        this.slices = new Slices(options.file(), ProcessHandle.current().pid(), options.maxFiles(), options.maxSize());
        this.options = options;
        this.intervalNs = interval.toNanos();
        this.workDir = workDir;
        this.jvmRecording = jvmRecording;
        this.recording = recording;
        this.probes = probes;
        this.background = background;
        this.sliceStart = start;
        this.nextSliceNs = startNs + intervalNs;
        Log.info("recording in slices of %s into %s (%s)", interval, slices.directory(), options.maxFiles() > 0 || options.maxSize() > 0
                ? "at most " + (options.maxFiles() > 0 ? options.maxFiles() + " files" : "")
                        + (options.maxFiles() > 0 && options.maxSize() > 0 ? " and " : "")
                        + (options.maxSize() > 0 ? (options.maxSize() >> 20) + " MB" : "") + ", the oldest deleted"
                : "no bound on their number: give maxfiles= or maxsize=");
    }

    /** On the poller thread, after each poll: ends the current slice when its interval is over, unless the recording is {@code ending}. */
    void afterPoll(long nowNs, AtomicBoolean ending) {
        if (nowNs >= nextSliceNs) {
            nextSliceNs = nowNs + intervalNs;
            cut(nowNs, ending);
        }
    }

    private void cut(long nowNs, AtomicBoolean ending) {
        if (ending.get() || jvmExiting()) {
            // JFR's shutdown hook may already have stopped its recorder thread: a recording begun
            // now would wait for it forever, holding JFR's lock (the last slice is written at exit)
            return;
        }
        Instant end = Instant.now();
        Instant start = sliceStart;
        sliceStart = end;
        int n = ++slicesCut;
        try {
            recording.writeStatus(probes, nowNs); // each slice says how its probes were doing (counts so far)
            // ours last: when anything before fails, our events stay with the writer for the next slice
            Path jvm = jvmRecording.rotate(workDir.resolve("jvm-slice-" + n + ".jfr"));
            Path target = slices.next(start);
            List<Path> ours = recording.writer().takeChunks();
            Runnable write = () -> writeSlice(jvm, ours, target, start, end);
            if (!background.submit(write)) {
                write.run();
            }
        } catch (IOException | RuntimeException e) {
            sliceStart = start; // the next slice holds our events since then
            Log.error("slice %d could not be cut (%s); our events of it go into the next one", n, Failures.explain(e));
        }
    }

    /** Whether the JVM runs its shutdown hooks: a hook can then no longer be added. */
    static boolean jvmExiting() {
        Thread probe = new Thread(() -> { }, "jfr-ebpf-exit-check");
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException shuttingDown) {
            return true;
        }
    }

    private void writeSlice(Path jvm, List<Path> ours, Path target, Instant start, Instant end) {
        try {
            JfrFiles.merge(jvm, ours, target);
            Log.info("slice written to %s (%s to %s)", target, start, end);
            bound();
        } catch (IOException | RuntimeException e) {
            Log.error("slice %s could not be written: %s", target, Failures.explain(e));
        } finally {
            try {
                for (Path p : ours) {
                    Files.deleteIfExists(p);
                }
                if (jvm != null) {
                    Files.deleteIfExists(jvm);
                }
            } catch (IOException e) {
                Log.debug("slice parts not deleted: %s", e);
            }
        }
    }

    /** The file of the last slice, once the slices cut before it are on disk (at most {@code waitMillis}). */
    Path lastSlice(long waitMillis) {
        background.drain(waitMillis);
        return slices.next(sliceStart);
    }

    /** Deletes the oldest slices beyond maxfiles or maxsize, each with a line saying so. */
    void bound() throws IOException {
        for (Path deleted : slices.enforce()) {
            Log.info("slice %s deleted (maxfiles=%d, maxsize=%d)", deleted.getFileName(), options.maxFiles(), options.maxSize());
        }
    }
}
