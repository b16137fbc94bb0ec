package io.jfrebpf.agent;

import io.jfrebpf.agent.jfr.JfrFiles;
import io.jfrebpf.agent.jfr.JfrSettings;
import io.jfrebpf.agent.jfr.JvmRecording;
import io.jfrebpf.agent.jfr.JvmTicks;
import io.jfrebpf.agent.jvm.AgentCompilation;
import io.jfrebpf.agent.libbpf.RingBufferPoller;
import io.jfrebpf.agent.probe.BackgroundWork;
import io.jfrebpf.agent.probe.ContainerInfo;
import io.jfrebpf.agent.probe.Probe;
import io.jfrebpf.agent.probe.Recorder;
import io.jfrebpf.events.ContainerInfoEvent;
import io.jfrebpf.events.read.EventNames;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One recording of this JVM: the JVM's own JFR recording plus our probes, from {@code premain}
 * to JVM exit or {@code duration=}, written as one .jfr file at {@code file=}. This is its life:
 * the start, the agent's thread, the end. Its parts are built by {@link Recording}, its probes
 * kept by {@link ProbeStates}, its slices cut by {@link SliceCutter}, its upload fed by
 * {@link UploadTap}; {@link Control} holds it and answers what is asked of it.
 *
 * <p>Threads: premain parses the options and starts the {@code jfr-ebpf} thread, which loads
 * and attaches the probes, then polls their ring buffers and writes events; premain waits for
 * the attach (bounded) so that the application's first file opens are seen. The end runs on
 * whichever thread ends the recording (the shutdown hook or the duration timer), after the
 * poller thread has stopped. No application thread ever waits for us after premain.
 */
public final class Agent implements Control.Session {
    /** How long {@code startup=wait} (and a dynamic attach) waits for the probes to attach. */
    static final long STARTUP_WAIT_MS = 10_000;
    /** The agent's thread: start-up, then the poller; its OS thread is never traced. */
    static final String POLLER_THREAD = "jfr-ebpf";
    static final long PERIOD_MS = 1_000;
    static final long DUMP_WAIT_MS = 30_000;
    /** How long the end waits for the probes to detach (together: about one kernel grace period). */
    static final long DETACH_WAIT_MS = 5_000;
    /**
     * The probes wake the poller only when 128 KB are waiting (common.bpf.h: a wake-up per
     * record costs the traced thread an interrupt); otherwise it reads every POLL_MS. Every
     * sleep and wake-up of the poller costs ~100 us of CPU on these VMs (timer exits): at 5 ms
     * that was 2% of a CPU with nothing to read; at 20 ms, under 1%. A full 1 MB ring buffer
     * still wakes it at once (128 KB), so nothing more is lost.
     */
    static final int POLL_MS = 20;

    private final String agentArgs;
    private final Instrumentation instrumentation;
    private final int pid = (int) ProcessHandle.current().pid();
    // set by the agent's thread during start-up; read by others after started (or after joining it)
    private volatile Options options;
    private volatile Path output;
    private volatile Path workDir;
    /** Made by the agent's thread as it begins (nothing more of ours loads on premain's thread); null before. */
    private volatile ProbeStates probes;
    private final AtomicBoolean ending = new AtomicBoolean();
    /** Counted down when the start-up is over: probes attached, or the start failed. */
    private final CountDownLatch startedUp = new CountDownLatch(1);
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile boolean polling = true;
    private JvmRecording jvmRecording;
    private Recording recording;
    /** CPU time the agent's thread used (start-up, decoding, symbolization, thread lookup), for the last log line. */
    private volatile long pollerCpuNanos = -1;
    /** ... of which starting (loading and attaching the probes). */
    private volatile long startupCpuNanos = -1;
    private BackgroundWork background;
    /** Null without {@code interval=}. */
    private SliceCutter slices;
    private final ContainerInfo.Watch container = new ContainerInfo.Watch();
    private Thread pollerThread;
    private final AtomicReference<CompletableFuture<List<Path>>> snapshotRequest = new AtomicReference<>();
    private final Thread shutdownHook = new Thread(new Step(this, Step.END_AT_EXIT), "jfr-ebpf-shutdown");

    Agent(String agentArgs, Instrumentation instrumentation) {
        this.agentArgs = agentArgs;
        this.instrumentation = instrumentation;
    }

    /**
     * Called by the boot class on JDK 25+. Never throws: the application must start. From
     * {@code -javaagent} (premain) it only starts the agent's thread and returns: options, the
     * JVM's recording, loading and attaching happen there, while the application starts; with
     * {@code startup=wait} it waits (at most {@link #STARTUP_WAIT_MS}) until the probes are
     * attached. A dynamic attach ({@code agentmain}, on the JVM's attach listener thread, not an
     * application thread) waits too, so that {@code attach} returns a recording that sees; or it
     * runs a command of {@code dump} or {@code stop}.
     */
    public static void start(String agentArgs, Instrumentation inst, boolean dynamic) {
        if (dynamic && Control.command(agentArgs)) {
            return;
        }
        Agent agent = new Agent(agentArgs, inst);
        if (!Control.begin(agent)) {
            return;
        }
        Thread t = new Thread(new Step(agent, Step.RUN), POLLER_THREAD);
        t.setDaemon(true);
        agent.pollerThread = t;
        try {
            Runtime.getRuntime().addShutdownHook(agent.shutdownHook);
            t.start();
        } catch (Throwable e) {
            Log.error("cannot start the agent's thread (%s); the application runs untraced", Failures.explain(e));
            agent.forget();
            return;
        }
        if (dynamic || Options.startupWaits(agentArgs, System.getenv())) {
            agent.awaitStarted(STARTUP_WAIT_MS);
        }
    }

    /** The output file; null until the start-up has named it. */
    @Override
    public Path output() {
        return output;
    }

    /** Each probe asked for: "attached: how" or "not attached: why" (none before the start-up asked for them). */
    @Override
    public Map<String, String> probeStates() {
        ProbeStates p = probes;
        return p == null ? new LinkedHashMap<>() : p.describe();
    }

    /** Waits at most {@code millis} until the start-up is over (probes attached, or failed); true when it is. */
    @Override
    public boolean awaitStarted(long millis) {
        try {
            if (!startedUp.await(millis, TimeUnit.MILLISECONDS)) {
                Log.warn("probes still attaching after %d ms; the application goes on meanwhile", millis);
                return false;
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Drops a recording that never started: the next start may try again. */
    private void forget() {
        Control.end(this);
        startedUp.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException | SecurityException ignored) {
            // exiting, or not registered
        }
    }

    /**
     * The start-up, on the agent's own thread: options, output, the JVM's recording, the
     * writer, the thread registry, then the probes. A failure leaves the application untraced,
     * with one line saying why; the JVM's exit never waits for a start-up that is still going
     * on beyond a bounded time (see {@link #end}).
     */
    private boolean setUp() {
        try {
            options = Options.fromAgentArgs(agentArgs, System.getenv());
        } catch (IllegalArgumentException e) {
            Log.error("%s; the application runs untraced", e.getMessage());
            forget();
            return false;
        }
        Log.setLevel(options.log());
        if (options.jit() == Options.Jit.C1) {
            AgentCompilation.c1Only(instrumentation); // before the agent's code gets hot
        }
        try {
            Path out = Path.of(JfrFiles.expandFileName(options.file(), pid, Instant.now())).toAbsolutePath();
            Path dir = out.getParent();
            Files.createDirectories(dir);
            WorkDir.removeStale(dir);
            workDir = WorkDir.create(dir);
            output = out;
            begin();
            return true;
        } catch (Throwable t) {
            Log.error("cannot start recording (%s); the application runs untraced", Failures.explain(t));
            abandon();
            forget();
            return false;
        }
    }

    /** Writes the recording so far to {@code target} while it goes on. */
    @Override
    public void dump(Path target) throws Exception {
        List<Path> ours;
        CompletableFuture<List<Path>> request = new CompletableFuture<>();
        if (pollerThread != null && pollerThread.isAlive() && polling) {
            if (!snapshotRequest.compareAndSet(null, request)) {
                throw new IOException("another dump is under way");
            }
            ours = request.get(DUMP_WAIT_MS, TimeUnit.MILLISECONDS); // the poller flushes, it alone writes events
        } else {
            ours = recording.writer().flushAndWait();
        }
        Path jvm = jvmRecording.snapshot(workDir.resolve("jvm-dump.jfr"));
        try {
            Files.createDirectories(target.getParent());
            JfrFiles.merge(jvm, ours, target);
        } finally {
            if (jvm != null) {
                Files.deleteIfExists(jvm);
            }
        }
    }

    private void begin() throws IOException {
        probes = new ProbeStates();
        background = BackgroundWork.start();
        // interval=: the first slice begins here, before the JVM's recording starts
        Instant firstSlice = options.interval().isPresent() ? Instant.now() : null;
        long firstSliceNs = System.nanoTime();
        UploadTap upload = options.upload().isPresent() ? new UploadTap(options, background) : null;
        if (!Agent.class.getModule().isNativeAccessEnabled()) {
            Log.info("add --enable-native-access=ALL-UNNAMED to the java command to silence the JDK's restricted-method warning");
        }
        jvmRecording = JvmRecording.start(options.jfr(), workDir, options.jfrEnvironment());
        JvmTicks ticks = options.jfr() == JfrSettings.NONE ? JvmTicks.MONOTONIC : JvmTicks.measure(instrumentation);
        recording = Recording.open(workDir.resolve("ebpf.jfr"), ticks, instrumentation, background, upload);
        if (options.interval().isPresent()) {
            slices = new SliceCutter(options, firstSlice, firstSliceNs, workDir, jvmRecording, recording, probes, background);
        }
    }

    /**
     * duration= counts from the probes' attach, not from the agent's start: on a busy JVM (an attach to a
     * loaded service) loading and attaching take seconds, and a 4 s recording should hold 4 s of what the
     * probes see, not what is left of 4 s after they came up.
     */
    private void startDurationTimer() {
        if (options.duration().isPresent()) {
            Thread timer = new Thread(new Step(this, Step.END_AFTER_DURATION), "jfr-ebpf-duration");
            timer.setDaemon(true);
            timer.start();
        }
    }

    /** The duration timer's thread: ends the recording when {@code duration=} has elapsed, unless it ended before. */
    private void awaitDuration() {
        long millis = options.duration().get().toMillis();
        try {
            if (!ended.await(millis, TimeUnit.MILLISECONDS)) {
                end("duration " + millis + " ms elapsed");
            }
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * What each of the agent's own threads runs: a class, not lambdas, because each lambda costs
     * the JVM a spun class and method-handle work at start-up (docs/performance.md).
     */
    private static final class Step implements Runnable {
        static final int RUN = 0;
        static final int END_AT_EXIT = 1;
        static final int END_AFTER_DURATION = 2;
        static final int FINISH_JVM_RECORDING = 3;

        private final Agent agent;
        private final int what;
        private final CompletableFuture<Path> done;

        Step(Agent agent, int what) {
            this(agent, what, null);
        }

        Step(Agent agent, int what, CompletableFuture<Path> done) {
            this.agent = agent;
            this.what = what;
            this.done = done;
        }

        @Override
        public void run() {
            switch (what) {
                case RUN -> agent.run();
                case END_AT_EXIT -> agent.end("JVM exit");
                case END_AFTER_DURATION -> agent.awaitDuration();
                case FINISH_JVM_RECORDING -> {
                    try {
                        done.complete(agent.jvmRecording.finish());
                    } catch (Throwable e) {
                        done.completeExceptionally(e);
                    }
                }
                default -> throw new IllegalStateException("step " + what);
            }
        }
    }

    /** The agent's thread: start-up, attach, then poll until the end. */
    private void run() {
        if (!setUp()) {
            return;
        }
        try {
            attachProbes();
        } catch (Throwable t) {
            Log.error("probes could not start (%s); recording the JVM's own events only", Failures.explain(t));
        } finally {
            startedUp.countDown();
        }
        startDurationTimer();
        if (polling) { // not when the JVM ended before the probes were up
            watchContainer();
        }
        startupCpuNanos = io.jfrebpf.agent.os.ThreadCpu.currentNanos();
        Log.debug("probes attached; the agent's thread used %d ms CPU so far", startupCpuNanos / 1_000_000);
        RingBufferPoller poller = recording.poller();
        List<Probe> running = probes.running();
        long nextPeriod = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PERIOD_MS);
        while (polling && poller != null) {
            try {
                poller.poll(POLL_MS);
                CompletableFuture<List<Path>> dump = snapshotRequest.getAndSet(null);
                if (dump != null) {
                    try {
                        dump.complete(recording.writer().flushAndWait());
                    } catch (Throwable t) {
                        dump.completeExceptionally(t);
                    }
                }
                long now = System.nanoTime();
                for (Probe p : running) {
                    p.afterPoll(now);
                }
                if (slices != null) {
                    slices.afterPoll(now, ending);
                }
                if (now >= nextPeriod) {
                    nextPeriod = now + TimeUnit.MILLISECONDS.toNanos(PERIOD_MS);
                    for (Probe p : running) {
                        p.periodic(now);
                    }
                    recording.threads().refresh();
                    recording.refreshStacks();
                    watchContainer();
                }
            } catch (Throwable t) {
                Log.error("polling failed (%s); no more kernel events are recorded", Failures.explain(t));
                break;
            }
        }
        pollerCpuNanos = io.jfrebpf.agent.os.ThreadCpu.currentNanos();
    }

    private void attachProbes() throws Exception {
        boolean any = false;
        try {
            any = probes.create(options.probes());
        } finally {
            if (!any) {
                recording.startWithoutProbes(); // the status of the probes asked for is still written
            }
        }
        if (!any) {
            return;
        }
        recording.startProbes(true);
        List<String> on = probes.attach(recording.probeContext(options), ending);
        Log.info("recording to %s; probes on: %s", output, on.isEmpty() ? "none" : String.join(", ", on));
    }

    /** ebpf.ContainerInfo at the start and whenever the process has moved to other cgroups. */
    private void watchContainer() {
        try {
            Recorder recorder = recording.recorder();
            Optional<ContainerInfoEvent> info = container.poll();
            if (info.isPresent()) {
                recorder.emit(info.get(), System.nanoTime(), 0);
            }
        } catch (Throwable t) {
            Log.debug("no %s: %s", EventNames.CONTAINER_INFO, Failures.explain(t));
        }
    }

    /** Ends the recording once, whoever asks first; the others wait for the file. */
    @Override
    public void end(String why) {
        if (!ending.compareAndSet(false, true)) {
            try {
                ended.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            finishRecording(why);
        } catch (Throwable t) {
            // its parts are deleted below: on a full disk, the space goes back to the application
            Log.error("could not write the recording to %s: %s; nothing was written there", output, Failures.explain(t));
        } finally {
            deleteWorkDir();
            ended.countDown();
            Control.end(this);
            if (Thread.currentThread() != shutdownHook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook); // stopped before exit: let it go
                } catch (IllegalStateException | SecurityException shuttingDown) {
                    // the JVM is exiting; the hook returns at once
                }
            }
        }
    }

    private void finishRecording(String why) throws IOException, InterruptedException {
        polling = false;
        if (pollerThread != null && pollerThread != Thread.currentThread()) {
            pollerThread.join(5_000);
        }
        Recorder recorder = recording == null ? null : recording.recorder();
        if (recorder == null) {
            // the JVM ended (or the agent was stopped) while the agent was still starting
            if (jvmRecording != null) {
                jvmRecording.close();
            }
            Log.info("the recording ended before the agent had started (%s); nothing written", why);
            return;
        }
        long endNs = System.nanoTime();
        RingBufferPoller poller = recording.poller();
        if (poller != null && !pollerThread.isAlive()) {
            try {
                poller.consume();
            } catch (Throwable t) {
                Log.debug("final drain failed: %s", t);
            }
        }
        probes.finish(endNs);
        UploadTap upload = recording.upload();
        if (upload != null) {
            upload.finish();
        }
        recording.writeStatus(probes, endNs);
        probes.closeAll(DETACH_WAIT_MS);
        recording.closeProbeSupport();
        Path jvm = finishJvmRecording();
        recording.close(jvm);
        Path target = slices != null ? slices.lastSlice(10_000) : output; // the slices cut before this one are on disk first
        JfrFiles.merge(jvm, recording.writer().chunks(), target);
        Log.info("%s written to %s (%s; %d eBPF events, %d lost; the agent's thread used %d ms CPU, %d ms of it starting)",
                slices != null ? "last slice" : "recording", target, why, recorder.written(),
                probes.lost() + recorder.dropped(), pollerCpuNanos / 1_000_000, startupCpuNanos / 1_000_000);
        if (slices != null) {
            slices.bound();
        }
        background.close(); // what it still has to detach goes on in the background
    }

    /**
     * Stops the JVM's recording on a thread of its own, waited for a bounded time: a JFR call made
     * after JFR's own shutdown hook has run never returns (a slice begun just as the JVM began to
     * exit can leave the poller thread inside JFR, holding its lock), and the JVM's exit must not
     * wait for it. Null (our events alone) when it did not end.
     */
    private Path finishJvmRecording() throws IOException, InterruptedException {
        CompletableFuture<Path> done = new CompletableFuture<>();
        Thread t = new Thread(new Step(this, Step.FINISH_JVM_RECORDING, done), "jfr-ebpf-jfr-stop");
        t.setDaemon(true);
        t.start();
        long waitMs = JvmRecording.WAIT_FOR_JFR_MS + 5_000; // finish() waits up to WAIT_FOR_JFR_MS itself
        try {
            return done.get(waitMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            Log.warn("the JVM's recording did not stop within %d s (JFR was shutting down); the recording is written"
                    + " without the JVM's own events", waitMs / 1000);
            return null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        }
    }

    /** Cleans up after a failed start. */
    private void abandon() {
        polling = false;
        try {
            if (jvmRecording != null) {
                jvmRecording.close();
            }
        } catch (Throwable ignored) {
            // nothing more to do
        }
        deleteWorkDir();
    }

    private void deleteWorkDir() {
        if (workDir != null) {
            WorkDir.delete(workDir);
        }
    }
}
