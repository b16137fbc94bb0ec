package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.bpf.MountedNames;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where the BPF programs read which Java thread is mounted on an OS thread (bpf/mounted.bpf.h):
 * libjvm's TLS path to the current JavaThread ({@link FrameAnchors}) and the offset of
 * {@code JavaThread::_monitor_owner_id}, the Java id of whatever {@code Thread.currentThread()}
 * returns there (a mounted virtual thread's, else the platform thread's), which HotSpot updates
 * at every mount and unmount since JDK 24. A plain int64 outside the Java heap: what the
 * programs read does not depend on the garbage collector.
 *
 * <p>The offset comes from VMStructs when they list the field, else from a calibration: the one
 * word of the JavaThread that holds the Java id of what is mounted, on a platform thread and on
 * virtual threads of the agent's own, mounted again and again. Either way it is checked on those
 * threads before an event is named by it; when the check fails, no program reads it (or, when it
 * fails later, no event is named by what they read) and events of virtual threads name their
 * carriers, as {@link #describe} says (for {@code ebpf.ProbeStatus}).
 *
 * <p>With the offset from VMStructs, the check on virtual threads waits for the first event that
 * names one ({@link #confirmed}): until then the word holds platform threads' ids, checked at
 * once on the agent's thread. A JVM that never runs a virtual thread never starts a carrier pool
 * for the agent (its threads, classes and JIT work were about a tenth of an idle JVM's cost of
 * the agent).
 */
public final class MountedThreads {
    /** Virtual threads the check runs, each mounted this many times (a sleep in between unmounts it). */
    static final int CHECK_THREADS = 3;
    static final int CHECK_MOUNTS = 4;
    static final long CHECK_TIMEOUT_MS = 5_000;
    /** JavaThread bytes searched by the calibration when VMStructs give no size. */
    static final int DEFAULT_SCAN_BYTES = 4096;

    private final long tlsModule;
    private final long tlsOffset;
    private final long idOffset;
    /** Null once checked on virtual threads (or never to be); else what their check reads through. */
    private FrameAnchors unchecked;
    /** False when the check on virtual threads failed: what the programs read names no event. */
    private volatile boolean trusted;
    private volatile String how;

    private MountedThreads(long tlsModule, long tlsOffset, long idOffset, FrameAnchors unchecked, String how) {
        this.tlsModule = tlsModule;
        this.tlsOffset = tlsOffset;
        this.idOffset = idOffset;
        this.unchecked = unchecked;
        this.trusted = idOffset != 0;
        this.how = how;
    }

    /** Nothing is read: events of virtual threads name their carriers, for the reason given. */
    public static MountedThreads unknown(String reason) {
        return new MountedThreads(0, 0, 0, null, reason);
    }

    /** This JVM's layout, checked on threads of the agent's own; never throws (see {@link #known}). */
    public static MountedThreads find() {
        try {
            Optional<VmStructs> loaded = VmStructs.load();
            if (loaded.isEmpty()) {
                throw new IllegalStateException("VMStructs unreadable");
            }
            VmStructs vm = loaded.get();
            FrameAnchors tls = FrameAnchors.locate(vm);
            OptionalLong listed = vm.fieldOffset("JavaThread", "_monitor_owner_id");
            MountedThreads m;
            if (listed.isPresent()) {
                long offset = listed.getAsLong();
                checkPlatform(tls, offset);
                m = new MountedThreads(tls.tlsModule(), tls.tlsOffset(), offset, tls, named(offset,
                        "VMStructs; checked on the agent's thread, on virtual threads at the first event of one"));
            } else {
                int size = (int) Math.min(16_384, vm.typeSize("JavaThread").orElse(DEFAULT_SCAN_BYTES));
                long offset = calibrate(tls, size);
                int mounts = check(tls, offset);
                m = new MountedThreads(tls.tlsModule(), tls.tlsOffset(), offset, null,
                        named(offset, "found by calibration; checked on " + mounts + " mounts"));
            }
            Log.debug("threads: %s", m.how);
            return m;
        } catch (Throwable e) {
            String reason = unreadable(e);
            Log.info("threads: %s", reason);
            return unknown(reason);
        }
    }

    private static String named(long offset, String how) {
        return "mounted virtual threads named by JavaThread::_monitor_owner_id at +" + offset + " (" + how + ")";
    }

    private static String unreadable(Throwable e) {
        return "events of virtual threads name their carriers: the mounted thread is not readable here ("
                + (e.getMessage() == null ? e.toString() : e.getMessage()) + ")";
    }

    /** Whether the programs read the mounted thread's id. */
    public boolean known() {
        return idOffset != 0;
    }

    /**
     * Whether an event may be named by the id a program read (called when that id is not its
     * OS thread's own: a virtual thread was mounted, or the word is not what it should be). The
     * first call checks the word on virtual threads of the agent's own, which then share the
     * application's carriers (some 15 ms, once); a failed check turns the naming off for the
     * rest of the recording, as {@link #describe} then says. On the agent's thread only.
     */
    public boolean confirmed() {
        FrameAnchors tls = unchecked;
        if (tls != null) {
            unchecked = null;
            try {
                int mounts = checkVirtual(tls, idOffset) + 1;
                how = named(idOffset, "VMStructs; checked on " + mounts + " mounts");
                Log.debug("threads: %s", how);
            } catch (Throwable e) {
                trusted = false;
                how = unreadable(e);
                Log.info("threads: %s", how);
            }
        }
        return trusted;
    }

    /** How the mounted thread is read, or why it is not: for the log and {@code ebpf.ProbeStatus}. */
    public String describe() {
        return how;
    }

    /** Sets the .rodata of an object that reads the mounted thread (bpf/mounted.bpf.h); before load. */
    public void prepare(BpfObject object) throws BpfException {
        if (!object.rodata().names().contains(MountedNames.Rodata.MOUNTED_ID_OFFSET)) {
            return;
        }
        object.rodata().setLong(MountedNames.Rodata.MOUNTED_TLS_MODULE, tlsModule);
        object.rodata().setLong(MountedNames.Rodata.MOUNTED_TLS_OFFSET, tlsOffset);
        object.rodata().setLong(MountedNames.Rodata.MOUNTED_ID_OFFSET, idOffset);
    }

    /** The id at {@code offset} of the calling thread's JavaThread, as a program reads it; -1 (no thread's id) when unreadable. */
    private static long mountedId(FrameAnchors tls, long offset) throws Throwable {
        long thread = tls.currentThread();
        return thread == 0 ? -1 : SafeMemory.readLong(thread + offset, -1);
    }

    /**
     * Reads the id at {@code offset} on this platform thread and on virtual threads of ours, each
     * mounted several times; throws unless every read is the thread's own id. Returns the reads.
     */
    static int check(FrameAnchors tls, long offset) throws Throwable {
        checkPlatform(tls, offset);
        return checkVirtual(tls, offset) + 1;
    }

    /** Throws unless the id at {@code offset} is this platform thread's own. */
    static void checkPlatform(FrameAnchors tls, long offset) throws Throwable {
        if (offset <= 0 || (offset & 7) != 0) {
            throw new IllegalStateException("JavaThread::_monitor_owner_id at +" + offset);
        }
        long self = mountedId(tls, offset);
        if (self == -1) {
            throw new IllegalStateException("the agent's JavaThread is unreadable");
        }
        if (self != Thread.currentThread().threadId()) {
            throw new IllegalStateException(String.format("on a platform thread +%d holds %d, not its id %d", offset, self,
                    Thread.currentThread().threadId()));
        }
    }

    /** Throws unless the id at {@code offset} is the virtual thread's own on every mount of the check; returns the reads. */
    static int checkVirtual(FrameAnchors tls, long offset) throws Throwable {
        List<long[]> reads = onVirtualThreads(() -> new long[] {mountedId(tls, offset)});
        for (long[] r : reads) {
            if (r[0] != r[1]) {
                throw new IllegalStateException(String.format("on virtual thread %d +%d holds %d", r[1], offset, r[0]));
            }
        }
        return reads.size();
    }

    /** The offset of the one word that holds the mounted thread's id on every thread looked at. */
    static long calibrate(FrameAnchors tls, int size) throws Throwable {
        Set<Long> candidates = offsetsHolding(tls, size, Thread.currentThread().threadId());
        for (long[] r : onVirtualThreads(() -> offsetsHolding(tls, size, Thread.currentThread().threadId()).stream()
                .mapToLong(Long::longValue).toArray())) {
            Set<Long> here = new LinkedHashSet<>();
            for (int i = 0; i < r.length - 1; i++) {
                here.add(r[i]);
            }
            candidates.retainAll(here);
        }
        if (candidates.size() != 1) {
            throw new IllegalStateException(candidates.isEmpty() ? "no word of the JavaThread holds the mounted thread's id"
                    : "several words of the JavaThread hold the mounted thread's id: " + candidates);
        }
        return candidates.iterator().next();
    }

    private static Set<Long> offsetsHolding(FrameAnchors tls, int size, long id) throws Throwable {
        long thread = tls.currentThread();
        ByteBuffer b = thread == 0 ? null : SafeMemory.bytes(thread, size);
        if (b == null) {
            throw new IllegalStateException("the JavaThread is unreadable");
        }
        Set<Long> found = new LinkedHashSet<>();
        for (int off = 8; off + 8 <= size; off += 8) {
            if (b.getLong(off) == id) {
                found.add((long) off);
            }
        }
        return found;
    }

    /** What a virtual thread of ours reads while it is mounted. */
    private interface Read {
        long[] read() throws Throwable;
    }

    /**
     * Runs {@code read} on {@link #CHECK_THREADS} virtual threads, {@link #CHECK_MOUNTS} times
     * each, unmounting between reads; each result gets the thread's id appended.
     */
    private static List<long[]> onVirtualThreads(Read read) throws Throwable {
        List<long[]> reads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int t = 0; t < CHECK_THREADS; t++) {
            Thread v = Thread.ofVirtual().name("jfr-ebpf-mount-check").unstarted(() -> {
                try {
                    for (int m = 0; m < CHECK_MOUNTS; m++) {
                        long[] r = read.read();
                        long[] withId = java.util.Arrays.copyOf(r, r.length + 1);
                        withId[r.length] = Thread.currentThread().threadId();
                        synchronized (reads) {
                            reads.add(withId);
                        }
                        Thread.sleep(1); // unmounts: the next read may be on another carrier
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            v.start();
            if (!v.join(java.time.Duration.ofMillis(CHECK_TIMEOUT_MS))) {
                throw new IllegalStateException("a virtual thread of the check did not run within " + CHECK_TIMEOUT_MS + " ms");
            }
            if (failure.get() != null) {
                throw failure.get();
            }
        }
        synchronized (reads) {
            return new ArrayList<>(reads);
        }
    }
}
