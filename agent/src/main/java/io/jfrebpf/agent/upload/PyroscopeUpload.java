package io.jfrebpf.agent.upload;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.UploadStatusEvent;
import io.jfrebpf.events.read.EventNames;
import io.jfrebpf.events.read.pprof.Pprof;
import io.jfrebpf.events.read.pprof.ProfileKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Feeds a Pyroscope server from the live data, as pyroscope-java does: every
 * {@link PyroscopeTarget#interval} the events of the period ({@link LiveProfiles}) become one
 * profile per kind ({@link ProfileKind}, {@link Pprof}: split to stay inside the server's limits),
 * and are sent, oldest first, on the agent's background thread; nothing is sent for a period
 * without events. It does not depend on {@code interval=}: a service that runs for days without
 * slices is fed all along, and slices are not sent again.
 *
 * <p>Bounded: at most {@link #MAX_QUEUED} profiles ({@link #MAX_QUEUED_BYTES}) wait; past that the
 * oldest is dropped. A failure the server means as passing ({@link IngestReply}) is retried after
 * 1, 2, 4, 8 then 16 s, or after its {@code Retry-After}, up to {@link #MAX_ATTEMPTS} attempts, and
 * never once the profile is older than {@link #MAX_AGE} (the server refuses profiles older than an
 * hour); a refusal is final. Every loss is counted by cause ({@link #status}, written as
 * {@code ebpf.UploadStatus}) and logged once per cause. At the end the last period is sent from
 * the thread that ends the recording, which is held at most {@link #EXIT_TIMEOUT}.
 */
public final class PyroscopeUpload {
    /** Runs a task later on the agent's background thread; false when it cannot (closing, full). */
    public interface Timer {
        boolean schedule(Runnable task, long delayMillis);
    }

    static final int MAX_QUEUED = 256;
    static final long MAX_QUEUED_BYTES = 16L << 20;
    static final int MAX_ATTEMPTS = 6;
    static final long FIRST_BACKOFF_MS = 1_000;
    static final long MAX_BACKOFF_MS = 30_000;
    /** Not sent once this old: the server refuses profiles older than 1 h (validation.reject-older-than). */
    static final Duration MAX_AGE = Duration.ofMinutes(50);
    /** How long the end of the recording (the JVM's exit) may wait for the last profiles. */
    public static final Duration EXIT_TIMEOUT = Duration.ofSeconds(5);
    static final int CONNECT_TIMEOUT_MS = 5_000;
    /** pyroscope-java's default export timeout. */
    static final int READ_TIMEOUT_MS = 10_000;
    private static final int MAX_CAUSES_LOGGED = 64;

    private static final class Pending {
        final Pprof.Piece piece;
        int attempts;

        Pending(Pprof.Piece piece) {
            this.piece = piece;
        }
    }

    private final PyroscopeTarget target;
    private final IngestClient client;
    private final Timer timer;
    private final long cpuPeriodNs;
    private final LiveProfiles live;
    private final ReentrantLock sending = new ReentrantLock();
    private volatile boolean closed;
    // the rest under this object's lock
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final Set<String> logged = new HashSet<>();
    private long queuedBytes;
    private long notBeforeNanos;
    private boolean inFlight;
    private boolean finished;
    private boolean anyTaken;
    private long sent;
    private long sentBytes;
    private long retries;
    private long rejected;
    private long expired;
    private long overflowed;
    private long unsent;
    private String lastProblem;

    public PyroscopeUpload(PyroscopeTarget target, String service, Map<String, String> labels, Timer timer, int cpuHz) {
        this.target = target;
        this.client = new IngestClient(target, SeriesName.of(service, labels));
        this.timer = timer;
        this.cpuPeriodNs = 1_000_000_000L / Math.max(1, cpuHz);
        this.live = new LiveProfiles(Instant.now());
        Log.info("upload: live profiles of %s go to %s", service, target);
        if (target.secretOnCommandLine()) {
            Log.warn("upload: credentials given in the -javaagent argument are seen by ps and recorded by JFR"
                    + " (jdk.JVMInformation); give them as PYROSCOPE_BASIC_AUTH_PASSWORD or PYROSCOPE_AUTH_TOKEN instead");
        }
        if (target.authorization() != null && "http".equals(target.base().getScheme())) {
            Log.warn("upload: credentials go in clear over http://; use https://");
        }
        if (!timer.schedule(this::tick, target.interval().toMillis())) {
            Log.warn("upload: the agent's background thread takes no task; the profiles are sent at the end only");
        }
    }

    /** On the poller thread, for each event with a stack: into the current period. */
    public void recorded(EbpfEvent event, long durationNs, JfrStack stack) {
        live.add(event, durationNs, stack);
    }

    /** Each period, on the background thread: the period's profiles are queued and the queue sent. */
    private void tick() {
        try {
            if (!closed) {
                cut(Instant.now());
                drain(Long.MAX_VALUE, false);
            }
        } finally {
            if (!closed && !timer.schedule(this::tick, target.interval().toMillis())) {
                Log.debug("upload: the next period could not be scheduled; its profiles are sent at the end");
            }
        }
    }

    private void cut(Instant now) {
        LiveProfiles.Period period = live.take(now);
        for (Map.Entry<ProfileKind, Map<JfrStack, long[]>> e : period.stacks().entrySet()) {
            List<Pprof.Piece> pieces;
            try {
                pieces = Pprof.encode(e.getKey(), e.getValue(), PprofFrames::of, period.from(), period.until(), cpuPeriodNs);
            } catch (RuntimeException | OutOfMemoryError x) {
                synchronized (this) {
                    expired++;
                    problem("encoding failed", x.toString());
                }
                continue;
            }
            for (Pprof.Piece p : pieces) {
                enqueue(p);
            }
        }
    }

    private synchronized void enqueue(Pprof.Piece piece) {
        while (!queue.isEmpty() && (queue.size() >= MAX_QUEUED || queuedBytes + piece.gzipped().length > MAX_QUEUED_BYTES)) {
            Pending oldest = queue.pollFirst();
            queuedBytes -= oldest.piece.gzipped().length;
            overflowed++;
            note("queue full", MAX_QUEUED + " profiles or " + (MAX_QUEUED_BYTES >> 20) + " MiB wait; the oldest is dropped");
        }
        queue.addLast(new Pending(piece));
        queuedBytes += piece.gzipped().length;
    }

    /**
     * Sends what waits, oldest first, until the queue is empty, a failure waits for its retry, or
     * the deadline passes. At the end ({@code exiting}) nothing is retried: what cannot be sent is unsent.
     */
    private void drain(long deadlineNanos, boolean exiting) {
        try {
            if (exiting ? !sending.tryLock(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS) : !sending.tryLock()) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            while (true) {
                Pending p;
                synchronized (this) {
                    if (!exiting && (closed || System.nanoTime() - notBeforeNanos < 0)) {
                        return; // the end sends the rest; or a retry is scheduled
                    }
                    if (exiting && deadlineNanos - System.nanoTime() <= 0) {
                        return;
                    }
                    p = queue.pollFirst();
                    if (p == null) {
                        return;
                    }
                    queuedBytes -= p.piece.gzipped().length;
                    if (Instant.now().isAfter(p.piece.from().plus(MAX_AGE))) {
                        expired++;
                        note("too old", "a profile waited past " + MAX_AGE.toMinutes() + " min; the server would refuse it");
                        continue;
                    }
                    if (p.attempts > 0) {
                        retries++;
                    }
                    inFlight = true;
                }
                if (!sendOne(p, deadlineNanos, exiting)) {
                    return;
                }
            }
        } finally {
            sending.unlock();
        }
    }

    /** False when the queue should wait (a retry) or stop (the end). */
    private boolean sendOne(Pending p, long deadlineNanos, boolean exiting) {
        int connectMs = CONNECT_TIMEOUT_MS;
        int readMs = READ_TIMEOUT_MS;
        if (exiting) {
            long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
            connectMs = (int) Math.min(connectMs, left);
            readMs = (int) Math.min(readMs, left);
        }
        IngestReply reply = null;
        String failure = null;
        try {
            reply = client.send(p.piece, connectMs, readMs);
        } catch (IOException | RuntimeException e) { // a URL the JDK refuses, a TLS problem: as a network error
            failure = e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + client.scrub(e.getMessage()) : "");
        }
        synchronized (this) {
            inFlight = false;
            if (finished) {
                return false; // counted as unsent by the end, which did not wait for it
            }
            IngestReply.Outcome outcome = reply == null ? IngestReply.Outcome.RETRY : reply.outcome();
            if (outcome == IngestReply.Outcome.TAKEN) {
                sent++;
                sentBytes += p.piece.gzipped().length;
                if (!anyTaken) {
                    anyTaken = true;
                    Log.info("upload: %s takes the profiles", target.server());
                }
                Log.debug("upload: %s profile of %d samples (%d bytes) taken", p.piece.kind().profileName, p.piece.samples(),
                        p.piece.gzipped().length);
                return true;
            }
            String cause = reply == null ? failure : reply.cause();
            String detail = reply == null ? null : reply.message();
            if (outcome == IngestReply.Outcome.REJECTED) {
                rejected++;
                problem(cause, detail);
                return true;
            }
            p.attempts++;
            if (exiting) {
                problem(cause, detail);
                queue.addFirst(p); // no retries at the end: it is unsent
                queuedBytes += p.piece.gzipped().length;
                return false;
            }
            long delayMs = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS << Math.min(20, p.attempts - 1));
            if (reply != null && reply.retryAfter() != null) {
                delayMs = Math.max(delayMs, reply.retryAfter().toMillis());
            }
            if (p.attempts >= MAX_ATTEMPTS || Instant.now().plusMillis(delayMs).isAfter(p.piece.from().plus(MAX_AGE))) {
                expired++;
                note("given up", "a profile failed " + p.attempts + " times, or would be too old before its next attempt");
                problem(cause, detail);
                return true;
            }
            problem(cause, detail);
            queue.addFirst(p);
            queuedBytes += p.piece.gzipped().length;
            notBeforeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs);
            if (!timer.schedule(() -> drain(Long.MAX_VALUE, false), delayMs)) {
                Log.debug("upload: the retry could not be scheduled; the next period sends it");
                notBeforeNanos = System.nanoTime();
            }
            return false;
        }
    }

    /**
     * At the end of the recording, on the thread that ends it: the last period is cut and what
     * waits is sent, once each, for at most {@link #EXIT_TIMEOUT}; what is left is counted unsent.
     */
    public void finish() {
        long deadline = System.nanoTime() + EXIT_TIMEOUT.toNanos();
        closed = true;
        try {
            cut(Instant.now());
        } catch (RuntimeException | OutOfMemoryError e) {
            Log.debug("upload: the last period could not be cut: %s", e);
        }
        drain(deadline, true);
        synchronized (this) {
            finished = true;
            long left = queue.size() + (inFlight ? 1 : 0);
            if (left > 0) {
                unsent += left;
                note("unsent at the end", left + " profiles could not be sent within " + EXIT_TIMEOUT.toSeconds() + " s");
            }
            queue.clear();
            queuedBytes = 0;
            Log.info("upload: %s", stats());
        }
    }

    /** The counts so far, as {@code ebpf.UploadStatus}. */
    public synchronized UploadStatusEvent status() {
        UploadStatusEvent e = new UploadStatusEvent();
        e.server = target.server();
        e.sent = sent;
        e.sentBytes = sentBytes;
        e.retries = retries;
        e.rejected = rejected;
        e.expired = expired;
        e.overflowed = overflowed;
        e.unsent = unsent;
        e.lost = rejected + expired + overflowed + unsent;
        e.foldedEvents = live.folded();
        e.lastProblem = lastProblem;
        return e;
    }

    public synchronized String stats() {
        long lost = rejected + expired + overflowed + unsent;
        return sent + " profiles sent (" + (sentBytes >> 10) + " KiB), " + retries + " retries, " + lost + " lost"
                + (lost == 0 ? "" : " (" + rejected + " rejected, " + expired + " expired, " + overflowed + " overflowed, "
                        + unsent + " unsent)");
    }

    /** A refusal or failure as the server or the network reported it: the last problem, and one log line per cause. */
    private void problem(String cause, String detail) {
        lastProblem = detail == null || detail.isEmpty() ? cause : cause + ": " + detail;
        note(cause, detail);
    }

    /** One log line per cause. */
    private void note(String cause, String detail) {
        String text = detail == null || detail.isEmpty() ? cause : cause + ": " + detail;
        if (logged.size() < MAX_CAUSES_LOGGED && logged.add(cause)) {
            Log.warn("upload: %s (%s); from now on counted in %s, not logged", text, target.server(), EventNames.UPLOAD_STATUS);
        } else {
            Log.debug("upload: %s", text);
        }
    }

    /**
     * Labels of this JVM's series: its host. Neither the pid nor the container id: both change at
     * each restart, and each value would be a series of its own.
     */
    public static Map<String, String> labels() {
        Map<String, String> m = new TreeMap<>();
        m.put("host", hostname());
        return m;
    }

    private static String hostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The default service name: the main class's simple name, or the jar's name, as sun.java.command says. */
    public static String defaultService() {
        String command = System.getProperty("sun.java.command", "").strip();
        String first = command.isEmpty() ? "java" : command.split("\\s+")[0];
        String name = first.endsWith(".jar") ? Path.of(first).getFileName().toString().replaceAll("\\.jar$", "")
                : first.substring(first.lastIndexOf('.') + 1);
        name = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return name.isEmpty() ? "java" : name;
    }
}
