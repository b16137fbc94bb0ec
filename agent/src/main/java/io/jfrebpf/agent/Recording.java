package io.jfrebpf.agent;

import io.jfrebpf.agent.jfr.ChunkWriter;
import io.jfrebpf.agent.jfr.JfrThread;
import io.jfrebpf.agent.jfr.JvmThreadStarts;
import io.jfrebpf.agent.jfr.JvmTicks;
import io.jfrebpf.agent.jvm.ThreadRegistry;
import io.jfrebpf.agent.libbpf.KernelIds;
import io.jfrebpf.agent.libbpf.RingBufferPoller;
import io.jfrebpf.agent.os.SyscallTable;
import io.jfrebpf.agent.probe.BackgroundWork;
import io.jfrebpf.agent.probe.ConnectListeners;
import io.jfrebpf.agent.probe.ProbeContext;
import io.jfrebpf.agent.probe.Recorder;
import io.jfrebpf.agent.stack.JvmStacks;
import io.jfrebpf.agent.stack.StackMaps;
import io.jfrebpf.events.EbpfEvents;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The parts of one recording of kernel events, wired in this one place for the agent (and each
 * of its slices) and for {@code check} alike: the chunk writer, the thread registry, the
 * ring-buffer poller, the stacks (their maps and the symbolizer), the recorder between them, and
 * what each probe is given ({@link ProbeContext}). Every part is handed what it uses when it is
 * made; none reaches for another. Built in two steps on the thread that polls: {@link #open} (what
 * a recording writes with, even one whose probes never run), then {@link #startProbes} or
 * {@link #startWithoutProbes}, after which the recorder exists, even when starting failed.
 */
final class Recording {
    private final int pid = (int) ProcessHandle.current().pid();
    private final ChunkWriter writer;
    private final ThreadRegistry threads;
    private final BackgroundWork background;
    /** Null without {@code upload=}. */
    private final UploadTap upload;
    private final SyscallNames syscalls = new SyscallNames();
    private RingBufferPoller poller;
    private JvmStacks stacks;
    private StackMaps maps;
    private Recorder recorder;

    private Recording(ChunkWriter writer, ThreadRegistry threads, BackgroundWork background, UploadTap upload) {
        this.writer = writer;
        this.threads = threads;
        this.background = background;
        this.upload = upload;
    }

    /**
     * The writer (its chunks at {@code chunkFile}, its events in {@code ticks}) and the thread
     * registry ({@code instrumentation}: null when this JVM's threads are not ours to name, as in
     * {@code check}); {@code upload}, if not null, sees every event with a stack.
     */
    static Recording open(Path chunkFile, JvmTicks ticks, Instrumentation instrumentation, BackgroundWork background,
            UploadTap upload) throws IOException {
        ChunkWriter writer = new ChunkWriter(chunkFile, EbpfEvents.ALL, ticks, new HostTid());
        return new Recording(writer, ThreadRegistry.create(instrumentation), background, upload);
    }

    /**
     * What probes need: the poller and the stack maps, with {@code symbolize} also what HotSpot's
     * frames need to be walked and named ({@link JvmStacks}); then the recorder, whose events get
     * their stacks named. Without {@code symbolize} ({@code check}: nothing is recorded) the maps
     * know nothing of this JVM and events get no stacks.
     */
    void startProbes(boolean symbolize) {
        try {
            poller = new RingBufferPoller();
            if (symbolize) {
                stacks = JvmStacks.start();
                maps = stacks.maps();
            } else {
                maps = new StackMaps();
            }
        } finally {
            startRecorder();
        }
    }

    /** The recorder of a recording with no probe to run: its events (status, container) have no stacks. */
    void startWithoutProbes() {
        startRecorder();
    }

    private void startRecorder() {
        recorder = new Recorder(writer, threads, stacks == null ? null : stacks.symbolizer(), upload);
    }

    /**
     * What one probe is given to start with {@code options}; on the thread that polls (its tid is
     * the agent's, which the probes do not trace), after {@link #startProbes}.
     */
    ProbeContext probeContext(Options options) {
        return new ProbeContext(pid, KernelIds.hostTid(), writer.writerTid(), options, poller, recorder, syscalls, maps,
                new ConnectListeners(), background);
    }

    ChunkWriter writer() {
        return writer;
    }

    ThreadRegistry threads() {
        return threads;
    }

    /** Once a period on the agent's thread: what the kernel's walk knows of the process's code (libraries loaded since). */
    void refreshStacks() {
        if (maps != null) {
            maps.refreshExecutable();
        }
    }

    /** Null until {@link #startProbes} or {@link #startWithoutProbes}. */
    Recorder recorder() {
        return recorder;
    }

    /** Null when no probe runs. */
    RingBufferPoller poller() {
        return poller;
    }

    /** Null without {@code upload=}. */
    UploadTap upload() {
        return upload;
    }

    /** The syscall names, if a probe asked for them. */
    SyscallTable syscallTable() {
        return syscalls.table;
    }

    /** The recording's status events as they are at {@code nowNs}: each probe's, and the upload's. */
    void writeStatus(ProbeStates probes, long nowNs) {
        probes.writeStatus(recorder, threads, nowNs);
        if (upload != null) {
            recorder.emit(upload.status(), nowNs, 0);
        }
    }

    /** Closes the poller and frees the stack maps (the stacks logging what symbolization did), once the probes are closed. */
    void closeProbeSupport() {
        if (poller != null) {
            poller.close();
        }
        if (stacks != null) {
            stacks.close();
        } else if (maps != null) {
            maps.close();
        }
    }

    /**
     * Names what could not be named live, then closes the writer: events of threads that ended
     * before the poller could look them up live get their Java thread from the JVM's recording
     * {@code jvm} (null: there is none), which saw every thread start (events of our chunk not yet
     * cut only: ChunkWriter#relabel); likewise virtual threads that ended unseen.
     */
    void close(Path jvm) throws IOException {
        Set<Long> ended = new HashSet<>();
        for (int tid : threads.ended()) {
            ended.add((long) tid);
        }
        Set<Long> unnamed = threads.virtualThreads().unnamed();
        writer.relabelVirtual(threads.virtualThreads().namedLater());
        if (jvm != null) {
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
        writer.close();
    }

    /** The calling thread's tid as the probes compare it, for the writer's thread to learn its own. */
    private static final class HostTid implements IntSupplier {
        @Override
        public int getAsInt() {
            return KernelIds.hostTid();
        }
    }

    /** The syscall names, read when a probe first asks (on the poller thread). */
    private static final class SyscallNames implements Supplier<SyscallTable> {
        private SyscallTable table;

        @Override
        public SyscallTable get() {
            if (table == null) {
                table = SyscallTable.load();
            }
            return table;
        }
    }
}
