package io.jfrebpf.agent;

import io.jfrebpf.agent.Options.ProbeName;
import io.jfrebpf.agent.jfr.ChunkWriter;
import io.jfrebpf.agent.jfr.JfrFiles;
import io.jfrebpf.agent.jfr.JfrThread;
import io.jfrebpf.agent.jfr.JvmRecording;
import io.jfrebpf.agent.jfr.JvmThreadStarts;
import io.jfrebpf.agent.jfr.JvmTicks;
import io.jfrebpf.agent.jvm.ThreadRegistry;
import io.jfrebpf.agent.stack.JvmStacks;
import io.jfrebpf.agent.libbpf.KernelIds;
import io.jfrebpf.agent.libbpf.RingBufferPoller;
import io.jfrebpf.agent.os.SyscallTable;
import io.jfrebpf.agent.probe.BackgroundWork;
import io.jfrebpf.agent.probe.BpfProbe;
import io.jfrebpf.agent.upload.PyroscopeUpload;
import io.jfrebpf.agent.probe.ConnectListeners;
import io.jfrebpf.agent.probe.ContainerInfo;
import io.jfrebpf.agent.probe.Probe;
import io.jfrebpf.agent.probe.ProbeContext;
import io.jfrebpf.agent.probe.Probes;
import io.jfrebpf.agent.probe.Recorder;
import io.jfrebpf.events.EbpfEvents;
import io.jfrebpf.events.ProbeStatusEvent;
import io.jfrebpf.events.read.EventNames;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One recording of this JVM: the JVM's own JFR recording plus our probes, from {@code premain}
 * to JVM exit or {@code duration=}, written as one .jfr file at {@code file=}.
 *
 * <p>Threads: premain parses the options and starts the {@code jfr-ebpf} thread, which loads
 * and attaches the probes, then polls their ring buffers and writes events; premain waits for
 * the attach (bounded) so that the application's first file opens are seen. The end runs on
 * whichever thread ends the recording (the shutdown hook or the duration timer), after the
 * poller thread has stopped. No application thread ever waits for us after premain.
 */
public final class Agent {
    /** How long {@code startup=wait} (and a dynamic attach) waits for the probes to attach. */
    static final long STARTUP_WAIT_MS = 10_000;
    /** The agent's thread: start-up, then the poller; its OS thread is never traced. */
    static final String POLLER_THREAD = "jfr-ebpf";
    static final long PERIOD_MS = 1_000;
    /** What {@code java -jar jfr-ebpf-agent.jar stop <pid>} passes to the agent it loads again. */
    public static final String STOP_COMMAND = "!stop";
    /** ... and {@code dump <pid> [file=...]}: {@code !dump} or {@code !dump=/absolute/file.jfr}. */
    public static final String DUMP_COMMAND = "!dump";
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

    private static final Object LOCK = new Object();

    static {
        io.jfrebpf.agent.api.AgentControl.register(new Control());
    }

    /** The agent's side of {@link io.jfrebpf.agent.api.AgentControl}: what the JVM's own code (the JUnit extension) asks. */
    private static final class Control implements io.jfrebpf.agent.api.AgentControl.Controller {
        @Override
        public boolean recording() {
            return Agent.recording();
        }

        @Override
        public boolean awaitAttached(java.time.Duration timeout) {
            return Agent.awaitAttached(timeout.toMillis());
        }

        @Override
        public Map<String, String> probeStates() {
            return Agent.probeStates();
        }

        @Override
        public Path dump(Path file) {
            return dumpCurrent(file);
        }
    }
    private static Agent current;

    private final String agentArgs;
    private final Instrumentation instrumentation;
    private final int pid = (int) ProcessHandle.current().pid();
    // set by the agent's thread during start-up; read by others after started (or after joining it)
    private volatile Options options;
    private volatile Path output;
    private volatile Path workDir;
    /** Guarded by itself: the agent's thread fills it, the JUnit extension reads it. */
    private final Map<ProbeName, ProbeState> states = new LinkedHashMap<>();
    private final List<Probe> running = new ArrayList<>();
    private final AtomicBoolean ending = new AtomicBoolean();
    /** Counted down when the start-up is over: probes attached, or the start failed. */
    private final CountDownLatch startedUp = new CountDownLatch(1);
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile boolean polling = true;
    private JvmRecording jvmRecording;
    private ChunkWriter writer;
    private ThreadRegistry threads;
    private JvmStacks stacks;
    /** CPU time the agent's thread used (start-up, decoding, symbolization, thread lookup), for the last log line. */
    private volatile long pollerCpuNanos = -1;
    /** ... of which starting (loading and attaching the probes). */
    private volatile long startupCpuNanos = -1;
    private Recorder recorder;
    private BackgroundWork background;
    private final Instant started = Instant.now();
    private Slices slices;
    private Instant sliceStart;
    private long nextSliceNs;
    private int slicesCut;
    private PyroscopeUpload upload;
    private RingBufferPoller poller;
    private SyscallTable syscallTable;
    private final ContainerInfo.Watch container = new ContainerInfo.Watch();
    private Thread pollerThread;
    private final AtomicReference<CompletableFuture<List<Path>>> snapshotRequest = new AtomicReference<>();
    private final Thread shutdownHook = new Thread(() -> end("JVM exit"), "jfr-ebpf-shutdown");

    /** What became of one requested probe. */
    private static final class ProbeState {
        Probe probe;
        boolean attached;
        String reason;
        /** How long after the JVM's start it was attached (0: not attached, or unknown). */
        long attachedAfterNs;
    }

    private Agent(String agentArgs, Instrumentation instrumentation) {
        this.agentArgs = agentArgs;
        this.instrumentation = instrumentation;
    }

    /**
     * Called by the boot class on JDK 25+. Never throws: the application must start. From
     * {@code -javaagent} (premain) it only starts the agent's thread and returns: options, the
     * JVM's recording, loading and attaching happen there, while the application starts; with
     * {@code startup=wait} it waits (at most {@link #STARTUP_WAIT_MS}) until the probes are
     * attached. A dynamic attach ({@code agentmain}, on the JVM's attach listener thread, not an
     * application thread) waits too, so that {@code attach} returns a recording that sees.
     */
    public static void start(String agentArgs, Instrumentation inst, boolean dynamic) {
        if (dynamic && agentArgs != null && agentArgs.startsWith(DUMP_COMMAND)) {
            String file = agentArgs.substring(DUMP_COMMAND.length());
            Path written = dumpCurrent(file.startsWith("=") ? Path.of(file.substring(1)) : null);
            if (written == null) {
                Log.warn("dump: the agent is not recording in this JVM");
            }
            return;
        }
        if (dynamic && STOP_COMMAND.equals(agentArgs)) {
            Path written = stopCurrent();
            if (written == null) {
                Log.warn("stop: the agent is not recording in this JVM");
            }
            return;
        }
        Agent agent;
        synchronized (LOCK) {
            if (current != null) {
                Log.warn("the agent is already recording to %s; ignoring a second start", current.output == null ? "its file" : current.output);
                return;
            }
            agent = new Agent(agentArgs, inst);
            current = agent;
        }
        Thread t = new Thread(agent::run, POLLER_THREAD);
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

    /** Waits at most {@code millis} until the start-up is over (probes attached, or failed); true when it is. */
    boolean awaitStarted(long millis) {
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

    /**
     * For the JUnit extension and tests: waits at most {@code millis} until the recording's
     * probes are attached (or failed); false when no recording is starting or running, or the
     * time ran out.
     */
    public static boolean awaitAttached(long millis) {
        Agent a;
        synchronized (LOCK) {
            a = current;
        }
        return a != null && a.awaitStarted(millis) && recording();
    }

    /** Drops a recording that never started: the next start may try again. */
    private void forget() {
        synchronized (LOCK) {
            if (current == this) {
                current = null;
            }
        }
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

    /**
     * Writes the recording so far to {@code file} (default: next to the output, named by the
     * time) while it goes on; returns the file, or null when not recording or on failure.
     */
    public static Path dumpCurrent(Path file) {
        Agent a;
        synchronized (LOCK) {
            a = current;
        }
        if (a == null) {
            return null;
        }
        Path target = file != null ? file.toAbsolutePath() : a.output.resolveSibling(dumpName(a.output.getFileName().toString()));
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

    private void dump(Path target) throws Exception {
        List<Path> ours;
        CompletableFuture<List<Path>> request = new CompletableFuture<>();
        if (pollerThread != null && pollerThread.isAlive() && polling) {
            if (!snapshotRequest.compareAndSet(null, request)) {
                throw new IOException("another dump is under way");
            }
            ours = request.get(DUMP_WAIT_MS, TimeUnit.MILLISECONDS); // the poller flushes, it alone writes events
        } else {
            ours = writer.flushAndWait();
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

    /** Whether the agent is recording in this JVM ({@link io.jfrebpf.agent.api.AgentControl#recording}). */
    public static boolean recording() {
        synchronized (LOCK) {
            return current != null;
        }
    }

    /**
     * Each probe asked for: "attached: how" or "not attached: why" (empty when not recording);
     * through {@link io.jfrebpf.agent.api.AgentControl#probeStates}, to explain a missing event.
     */
    public static Map<String, String> probeStates() {
        Agent a;
        synchronized (LOCK) {
            a = current;
        }
        Map<String, String> states = new java.util.LinkedHashMap<>();
        if (a != null) {
            synchronized (a.states) {
                a.states.forEach((name, s) -> states.put(name.key(), (s.attached ? "attached: " : "not attached: ") + s.reason));
            }
        }
        return states;
    }

    /** Ends the running recording now and writes the file; for tests and the CLI. */
    public static Path stopCurrent() {
        Agent a;
        synchronized (LOCK) {
            a = current;
        }
        if (a == null) {
            return null;
        }
        a.end("stopped");
        return a.output;
    }

    private void begin() throws IOException {
        background = BackgroundWork.start();
        options.interval().ifPresent(i -> {
            slices = new Slices(options.file(), ProcessHandle.current().pid(), options.maxFiles(), options.maxSize());
            sliceStart = Instant.now();
            nextSliceNs = System.nanoTime() + i.toNanos();
            Log.info("recording in slices of %s into %s (%s)", i, slices.directory(), options.maxFiles() > 0 || options.maxSize() > 0
                    ? "at most " + (options.maxFiles() > 0 ? options.maxFiles() + " files" : "")
                            + (options.maxFiles() > 0 && options.maxSize() > 0 ? " and " : "")
                            + (options.maxSize() > 0 ? (options.maxSize() >> 20) + " MB" : "") + ", the oldest deleted"
                    : "no bound on their number: give maxfiles= or maxsize=");
        });
        options.upload().ifPresent(u -> upload = new PyroscopeUpload(u, options.service().orElseGet(PyroscopeUpload::defaultService),
                PyroscopeUpload.labels(), background::schedule, options.cpuHz()));
        if (!Agent.class.getModule().isNativeAccessEnabled()) {
            Log.info("add --enable-native-access=ALL-UNNAMED to the java command to silence the JDK's restricted-method warning");
        }
        jvmRecording = JvmRecording.start(options.jfr(), workDir, options.jfrEnvironment());
        JvmTicks ticks = options.jfr() == Options.JfrSettings.NONE ? JvmTicks.MONOTONIC : JvmTicks.measure(instrumentation);
        writer = new ChunkWriter(workDir.resolve("ebpf.jfr"), EbpfEvents.ALL, ticks);
        threads = ThreadRegistry.create(instrumentation);
        recorder = new Recorder(writer, threads);
        if (upload != null) {
            recorder.tap(upload); // the live profiles it pushes every upload.interval
        }

        options.duration().ifPresent(d -> {
            Thread timer = new Thread(() -> {
                try {
                    if (!ended.await(d.toMillis(), TimeUnit.MILLISECONDS)) {
                        end("duration " + d.toMillis() + " ms elapsed");
                    }
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "jfr-ebpf-duration");
            timer.setDaemon(true);
            timer.start();
        });
    }

    /**
     * Ends the current slice (interval=): our chunks so far and the JVM's recording of the slice
     * are merged into the slice's file on the background thread, which then bounds the slices on
     * disk. Runs on the poller thread, the one that writes events.
     */
    private void cutSlice(long nowNs) {
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
            writeProbeStatus(nowNs); // each slice says how its probes were doing (counts so far)
            // ours last: when anything before fails, our events stay with the writer for the next slice
            Path jvm = jvmRecording.rotate(workDir.resolve("jvm-slice-" + n + ".jfr"));
            Path target = slices.next(start);
            List<Path> ours = writer.takeChunks();
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
            for (Path deleted : slices.enforce()) {
                Log.info("slice %s deleted (maxfiles=%d, maxsize=%d)", deleted.getFileName(), options.maxFiles(), options.maxSize());
            }
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
        if (polling) { // not when the JVM ended before the probes were up
            watchContainer();
        }
        startupCpuNanos = io.jfrebpf.agent.os.ThreadCpu.currentNanos();
        Log.debug("probes attached; the agent's thread used %d ms CPU so far", startupCpuNanos / 1_000_000);
        long nextPeriod = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PERIOD_MS);
        while (polling && poller != null) {
            try {
                poller.poll(POLL_MS);
                CompletableFuture<List<Path>> dump = snapshotRequest.getAndSet(null);
                if (dump != null) {
                    try {
                        dump.complete(writer.flushAndWait());
                    } catch (Throwable t) {
                        dump.completeExceptionally(t);
                    }
                }
                long now = System.nanoTime();
                for (Probe p : running) {
                    p.afterPoll(now);
                }
                if (slices != null && now >= nextSliceNs) {
                    nextSliceNs = now + options.interval().orElseThrow().toNanos();
                    cutSlice(now);
                }
                if (now >= nextPeriod) {
                    nextPeriod = now + TimeUnit.MILLISECONDS.toNanos(PERIOD_MS);
                    for (Probe p : running) {
                        p.periodic(now);
                    }
                    threads.refresh();
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
        List<String> missing = new ArrayList<>();
        boolean any = false;
        synchronized (states) {
            for (ProbeName name : options.probes()) {
                ProbeState state = new ProbeState();
                states.put(name, state);
                state.probe = Probes.create(name).orElse(null);
                if (state.probe == null) {
                    state.reason = "not available in this version of jfr-ebpf";
                    missing.add(name.key());
                }
                any |= state.probe != null;
            }
        }
        if (!missing.isEmpty()) {
            Log.info("probes not available in this version: %s", String.join(", ", missing));
        }
        if (!any) {
            return;
        }
        poller = new RingBufferPoller();
        stacks = JvmStacks.start(recorder);
        ProbeContext context = new ProbeContext(pid, KernelIds.hostTid(), writer.writerTid(), options, poller, recorder,
                this::syscalls, stacks.maps(), new ConnectListeners(), background);
        List<String> on = new ArrayList<>();
        for (Map.Entry<ProbeName, ProbeState> e : stateList()) {
            ProbeState state = e.getValue();
            if (state.probe == null) {
                continue;
            }
            if (ending.get()) {
                state.reason = "the recording ended before it was attached (startup=wait makes main wait for the probes)";
                continue;
            }
            try {
                state.probe.start(context);
                synchronized (states) {
                    state.attached = true;
                    state.attachedAfterNs = sinceJvmStart();
                    state.reason = state.probe.attachedAs();
                }
                running.add(state.probe);
                on.add(e.getKey().key());
            } catch (Throwable t) {
                synchronized (states) {
                    state.reason = Failures.explain(t);
                }
                Log.warn("probe %s not attached: %s", e.getKey().key(), state.reason);
                state.probe.close();
            }
        }
        Log.info("recording to %s; probes on: %s", output, on.isEmpty() ? "none" : String.join(", ", on));
    }

    /** The probes asked for, in order, as they are now (a copy: the JUnit extension reads them from its thread). */
    private List<Map.Entry<ProbeName, ProbeState>> stateList() {
        synchronized (states) {
            return new ArrayList<>(states.entrySet());
        }
    }

    /** Nanoseconds since this JVM's process started (its start time has the kernel's 10 ms resolution). */
    private static long sinceJvmStart() {
        Instant jvmStart = ProcessHandle.current().info().startInstant().orElse(null);
        if (jvmStart == null) {
            return 0;
        }
        return Math.max(0, java.time.Duration.between(jvmStart, Instant.now()).toNanos());
    }

    private SyscallTable syscalls() {
        if (syscallTable == null) {
            syscallTable = SyscallTable.load();
        }
        return syscallTable;
    }

    /** ebpf.ContainerInfo at the start and whenever the process has moved to other cgroups. */
    private void watchContainer() {
        try {
            container.poll().ifPresent(e -> recorder.emit(e, System.nanoTime(), 0));
        } catch (Throwable t) {
            Log.debug("no %s: %s", EventNames.CONTAINER_INFO, Failures.explain(t));
        }
    }

    /** Ends the recording once, whoever asks first; the others wait for the file. */
    private void end(String why) {
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
            synchronized (LOCK) {
                if (current == this) {
                    current = null;
                }
            }
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
        if (writer == null || recorder == null) {
            // the JVM ended (or the agent was stopped) while the agent was still starting
            if (jvmRecording != null) {
                jvmRecording.close();
            }
            Log.info("the recording ended before the agent had started (%s); nothing written", why);
            return;
        }
        long endNs = System.nanoTime();
        if (poller != null && !pollerThread.isAlive()) {
            try {
                poller.consume();
            } catch (Throwable t) {
                Log.debug("final drain failed: %s", t);
            }
        }
        for (Probe p : running) {
            try {
                p.finish(endNs);
            } catch (Throwable t) {
                Log.debug("probe %s: final statistics failed: %s", p.name(), t);
            }
        }
        if (upload != null) {
            upload.finish(); // the last period's profiles, from this thread, for at most PyroscopeUpload.EXIT_TIMEOUT
        }
        writeProbeStatus(endNs);
        Probes.closeAll(running, DETACH_WAIT_MS);
        if (poller != null) {
            poller.close();
        }
        if (stacks != null) {
            stacks.close();
        }
        Path jvm = finishJvmRecording();
        nameEndedThreads(jvm);
        writer.close();
        if (slices != null) {
            background.drain(10_000); // the slices cut before this one are on disk first
        }
        Instant start = slices != null ? sliceStart : started;
        Path target = slices != null ? slices.next(start) : output;
        JfrFiles.merge(jvm, writer.chunks(), target);
        Log.info("%s written to %s (%s; %d eBPF events, %d lost; the agent's thread used %d ms CPU, %d ms of it starting)",
                slices != null ? "last slice" : "recording", target, why, recorder.written(),
                running.stream().mapToLong(Probe::lost).sum() + recorder.dropped(), pollerCpuNanos / 1_000_000,
                startupCpuNanos / 1_000_000);
        if (slices != null) {
            for (Path deleted : slices.enforce()) {
                Log.info("slice %s deleted (maxfiles=%d, maxsize=%d)", deleted.getFileName(), options.maxFiles(), options.maxSize());
            }
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
        Thread t = new Thread(() -> {
            try {
                done.complete(jvmRecording.finish());
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "jfr-ebpf-jfr-stop");
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

    /**
     * Events of threads that ended before the poller could look them up live get their Java
     * thread from the JVM's recording, which saw every thread start (events of our chunk not yet
     * cut only: ChunkWriter#relabel).
     */
    private void nameEndedThreads(Path jvm) {
        Set<Long> ended = new HashSet<>();
        for (int tid : threads.ended()) {
            ended.add((long) tid);
        }
        Set<Long> unnamed = threads.virtualThreads().unnamed();
        writer.relabelVirtual(threads.virtualThreads().namedLater());
        if (jvm == null) {
            return;
        }
        if (!ended.isEmpty()) {
            Map<Long, JfrThread> found = JvmThreadStarts.find(jvm, ended);
            writer.relabel(found);
            Log.debug("threads: %d of %d ended unknown threads named by the JVM's recording", found.size(), ended.size());
        }
        if (!unnamed.isEmpty()) {
            Map<Long, JfrThread> found = JvmThreadStarts.findVirtual(jvm, unnamed);
            writer.relabelVirtual(found);
            Log.debug("threads: %d of %d virtual threads that ended unseen named by the JVM's recording", found.size(),
                    unnamed.size());
        }
    }

    private void writeProbeStatus(long endNs) {
        for (Map.Entry<ProbeName, ProbeState> e : stateList()) {
            ProbeState s = e.getValue();
            ProbeStatusEvent status = new ProbeStatusEvent();
            status.probe = e.getKey().key();
            status.attached = s.attached;
            // a probe that attaches as it finds its targets (postgres) says at the end what it found
            status.reason = s.probe != null && s.attached ? s.probe.attachedAs() : s.reason;
            status.events = s.probe != null ? s.probe.events() : 0;
            status.lost = s.probe != null && s.attached ? s.probe.lost() : 0;
            status.attachedAfter = s.attached ? Math.max(0, s.attachedAfterNs) : 0;
            status.virtualThreads = s.attached && s.probe instanceof BpfProbe && threads != null ? threads.mountedThreads().describe() : null;
            recorder.emit(status, endNs, 0);
        }
        if (upload != null) {
            recorder.emit(upload.status(), endNs, 0);
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
