package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.jvm.CodeCache;
import io.jfrebpf.agent.jvm.FrameAnchors;
import io.jfrebpf.agent.jvm.HotSpotFrames;
import io.jfrebpf.agent.jvm.StackChunks;
import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfMap;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.SharedMap;
import io.jfrebpf.agent.os.MappedCode;
import io.jfrebpf.bpf.StackLayout;
import io.jfrebpf.bpf.StackNames;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * The two stack maps of bpf/stack.bpf.h, one pair for all probes: the first object loaded
 * creates them, every later one reuses them (before its load), and the agent reads them here
 * under fds of its own. Also hands every object what its walk needs of this JVM: the bounds of
 * the interpreter and of the code cache, its code heaps and blob layout ({@link HotSpotFrames}),
 * where the frame anchors are ({@link FrameAnchors}) and how virtual threads' stack chunks are
 * read ({@link StackChunks}).
 */
public final class StackMaps implements AutoCloseable {
    static final String USER = StackNames.Maps.USER_STACKS;
    static final String KERNEL = StackNames.Maps.KERNEL_STACKS;
    static final String EXECUTABLE = StackNames.Maps.EXEC_RANGES;
    static final long FULL_REREAD_NS = 30_000_000_000L;
    private static final int STUB_ENTRIES = (int) StackLayout.STUB_ENTRIES_MAX;

    /** Lookup buffers, one set per reading thread (the poller, in production): no allocation per stack. */
    private static final ThreadLocal<MemorySegment[]> BUFFERS = new ThreadLocal<>() {
        @Override
        protected MemorySegment[] initialValue() {
            Arena arena = Arena.ofAuto();
            return new MemorySegment[] {arena.allocate(8, 8), arena.allocate(UserStack.SIZE, 8),
                arena.allocate(8L * UserStack.KERNEL_MAX_DEPTH, 8)};
        }
    };

    private final long interpreterStart;
    private final long interpreterEnd;
    private final long codeLow;
    private final long codeHigh;
    private final FrameAnchors anchors;
    private final HotSpotFrames frames;
    private final StackChunks chunks;
    private final long sigreturn;
    private final byte[] stubEntries;
    private final int stubEntryCount;
    private SharedMap user;
    private SharedMap kernel;
    private SharedMap executable;
    private final ExecutableRanges ranges = new ExecutableRanges();
    private MemorySegment rangesValue;
    private boolean rangesFailed;
    /** The mapped code's size (kB, -1: unknown) and the time when the mappings were last read. */
    private long codeKb = -1;
    private long rangesRead;

    /** Maps for walks that know nothing of HotSpot (no JVM to read: the attach command line). */
    public StackMaps() {
        this(null, null, null, 0, new long[0]);
    }

    /**
     * code, anchors, frames: null when this JVM's could not be read (walks go on without them);
     * sigreturn: where signal handlers return ({@link SignalReturn}), 0 if unknown; stubEntries:
     * where the stubs of HotSpot's stub buffers begin, sorted ({@link StubNames}).
     */
    public StackMaps(CodeCache code, FrameAnchors anchors, HotSpotFrames frames, long sigreturn, long[] stubEntries) {
        this(code, anchors, frames, StackChunks.unknown("no JVM read"), sigreturn, stubEntries);
    }

    /** As above; chunks: how the walk reads virtual threads' frames in their stack chunks. */
    public StackMaps(CodeCache code, FrameAnchors anchors, HotSpotFrames frames, StackChunks chunks, long sigreturn, long[] stubEntries) {
        this.chunks = code == null || frames == null ? StackChunks.unknown("no code blobs read") : chunks;
        this.interpreterStart = code == null ? 0 : code.interpreterStart();
        this.interpreterEnd = code == null ? 0 : code.interpreterEnd();
        this.codeLow = code == null ? 0 : code.lowBound();
        this.codeHigh = code == null ? 0 : code.highBound();
        this.anchors = code == null ? null : anchors; // the check of native frames needs the code cache's bounds
        this.frames = code == null ? null : frames;
        this.sigreturn = sigreturn;
        int n = code == null ? 0 : Math.min(stubEntries.length, STUB_ENTRIES - 1);
        if (n < stubEntries.length && code != null) {
            // the stubs past the table are taken for the last one in it: their frames may end the walk early
            Log.debug("stubs: %d entries, the kernel's walk knows the first %d", stubEntries.length, n);
        }
        ByteBuffer entries = ByteBuffer.allocate(8 * STUB_ENTRIES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            entries.putLong(8 * i, stubEntries[i]);
        }
        this.stubEntries = entries.array();
        this.stubEntryCount = n;
    }

    private static boolean capturesStacks(BpfObject object) {
        for (BpfMap m : object.maps()) {
            if (m.name().equals(USER)) {
                return true;
            }
        }
        return false;
    }

    /** Before load. */
    public synchronized void prepare(BpfObject object) throws BpfException {
        if (!capturesStacks(object)) {
            return;
        }
        object.rodata().setLong(StackNames.Rodata.INTERP_START, interpreterStart);
        object.rodata().setLong(StackNames.Rodata.INTERP_END, interpreterEnd);
        object.rodata().setLong(StackNames.Rodata.CODE_LOW, codeLow);
        object.rodata().setLong(StackNames.Rodata.CODE_HIGH, codeHigh);
        if (frames != null) {
            object.rodata().setBytes(StackNames.Rodata.HOTSPOT, frames.layout());
        }
        chunks.prepare(object);
        object.rodata().setLong(StackNames.Rodata.SIGRETURN_PC, sigreturn);
        object.rodata().setBytes(StackNames.Rodata.STUB_ENTRIES, stubEntries);
        object.rodata().setInt(StackNames.Rodata.STUB_ENTRY_COUNT, stubEntryCount);
        if (anchors != null) {
            object.rodata().setLong(StackNames.Rodata.JT_TLS_MODULE, anchors.tlsModule());
            object.rodata().setLong(StackNames.Rodata.JT_TLS_OFFSET, anchors.tlsOffset());
            object.rodata().setLong(StackNames.Rodata.JT_ANCHOR_OFFSET, anchors.anchorOffset());
            object.rodata().setLong(StackNames.Rodata.JT_STATE_OFFSET, anchors.stateOffset());
            object.rodata().setLong(StackNames.Rodata.JT_STACK_BASE_OFFSET, anchors.stackBaseOffset());
            object.rodata().setLong(StackNames.Rodata.JT_ANCHOR_STATES, anchors.anchorStates());
            object.rodata().setLong(StackNames.Rodata.JT_WINDOW_OFFSET, anchors.windowOffset());
            object.rodata().setLong(StackNames.Rodata.JT_WINDOW_SIZE, anchors.windowSize());
        }
        if (user != null) {
            object.map(USER).reuse(user);
            object.map(KERNEL).reuse(kernel);
            object.map(EXECUTABLE).reuse(executable);
        }
    }

    /** After load: the first object's maps become the shared ones. */
    public synchronized void adopt(BpfObject object) throws BpfException {
        if (user != null || !capturesStacks(object)) {
            return;
        }
        BpfMap u = object.map(USER);
        BpfMap k = object.map(KERNEL);
        if (u.valueSize() != UserStack.SIZE || k.valueSize() != 8L * UserStack.KERNEL_MAX_DEPTH) {
            throw new BpfException("stack maps of " + object.name() + " do not match UserStack (" + u.valueSize()
                    + ", " + k.valueSize() + " bytes)", 22);
        }
        BpfMap x = object.map(EXECUTABLE);
        if (x.valueSize() != ExecutableRanges.SIZE) {
            throw new BpfException("exec_ranges of " + object.name() + " does not match ExecutableRanges (" + x.valueSize()
                    + " bytes)", 22);
        }
        user = u.share();
        kernel = k.share();
        executable = x.share();
        rangesValue = Arena.ofAuto().allocate(ExecutableRanges.SIZE, 8);
        refreshExecutable();
    }

    /**
     * Rereads the process's executable mappings and hands them to the walk when they changed (a
     * library loaded since): on the agent's thread, once a period. Until the first call the walk
     * takes any address for executable; a failure keeps the last table, logged once. The maps
     * (~2 ms for a JVM's ~1,000 lines) are read only when the mapped code's size changed or is
     * unknown ({@link MappedCode}, ~0.1 ms), or every {@link #FULL_REREAD_NS} for what that size
     * misses (writable code, a library swapped for one of the same size).
     */
    public synchronized void refreshExecutable() {
        if (executable == null) {
            return;
        }
        long kb = MappedCode.kb();
        long now = System.nanoTime();
        if (kb >= 0 && kb == codeKb && now - rangesRead < FULL_REREAD_NS) {
            return;
        }
        codeKb = kb;
        rangesRead = now;
        try {
            if (ranges.reread()) {
                ranges.writeTo(rangesValue);
                MemorySegment[] b = BUFFERS.get();
                b[0].set(ValueLayout.JAVA_INT, 0, 0);
                executable.update(b[0], rangesValue);
                Log.debug("stacks: %d executable ranges handed to the walk", ranges.count());
            }
        } catch (Exception e) {
            if (!rangesFailed) {
                rangesFailed = true;
                Log.info("stacks: the executable mappings could not be reread (%s); native frames are checked against the last ones",
                        e.getMessage());
            }
        }
    }

    /** The user stack of a key, or empty when it is gone (evicted) or there are no maps yet. */
    public Optional<UserStack> user(long key) throws BpfException {
        SharedMap m;
        synchronized (this) {
            m = user;
        }
        if (m == null || key == 0) {
            return Optional.empty();
        }
        MemorySegment[] b = BUFFERS.get();
        b[0].set(ValueLayout.JAVA_LONG, 0, key);
        return m.lookup(b[0], b[1]) ? Optional.of(UserStack.decode(b[1])) : Optional.empty();
    }

    /** The kernel stack of an id (return addresses, innermost first), or empty. */
    public Optional<long[]> kernel(int id) throws BpfException {
        SharedMap m;
        synchronized (this) {
            m = kernel;
        }
        if (m == null || id < 0) {
            return Optional.empty();
        }
        MemorySegment[] b = BUFFERS.get();
        b[0].set(ValueLayout.JAVA_INT, 0, id);
        MemorySegment v = b[2];
        v.fill((byte) 0); // a shorter stack leaves the rest as it was
        if (!m.lookup(b[0], v)) {
            return Optional.empty();
        }
        BpfBytes ips = BpfBytes.of(v, 8L * UserStack.KERNEL_MAX_DEPTH);
        int n = 0;
        while (n < ips.size() / 8 && ips.u64(8L * n) != 0) {
            n++;
        }
        return Optional.of(ips.u64s(0, n));
    }

    @Override
    public synchronized void close() {
        if (user != null) {
            user.close();
        }
        if (kernel != null) {
            kernel.close();
        }
        if (executable != null) {
            executable.close();
        }
    }
}
