package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * HotSpot's code cache, read from the outside the way its serviceability agent does it: which
 * code blob holds a pc (code heap segment map), its name and kind, and for a compiled Java method
 * (nmethod) the chain of scopes at a pc — the method and bci of each inlined call, innermost
 * first — from its debug information (PcDesc table and the UNSIGNED5-encoded scope stream).
 *
 * <p>Why this and not JVMTI CompiledMethodLoad events: it needs no native agent and costs nothing
 * until a pc is symbolized, and a pc is decoded once (cached). The price is that an nmethod can be
 * freed between the sample and its symbolization, and its space taken by another: the kernel's
 * walk records each compiled frame's compile id (unique in the JVM's life), a blob is re-read and
 * checked (kind, bounds, compile id) on every cache miss, and {@link #holds} tells whether it is
 * still there once its names are read; what was read of a compilation is kept by its compile
 * id ({@link #scopesOfFreed}). Every read goes through {@link SafeMemory}, so garbage gives an
 * unresolved frame, never a crash.
 */
public final class CodeCache {
    /** A scope at a pc of compiled code: the method (a {@code Method*}) and the bci in it. */
    public record Scope(long method, int bci) {
    }

    /** A code blob: an nmethod ({@code method != 0}), the interpreter, or a stub. */
    public record Blob(long address, String name, int kind, long codeBegin, long end, long method, int compileId) {
        public boolean isNMethod() {
            return method != 0;
        }
    }

    private record Heap(long low, long high, long segmapLow, int log2SegmentSize) {
    }

    /** A code heap as the kernel's walk reads it (HotSpotFrames): [low, high), its segment map, log2 of its segment size. */
    public record HeapBounds(long low, long high, long segmap, int log2SegmentSize) {
    }

    /**
     * An nmethod's PcDescs and scopes, copied, for the compilation (compile id) it was read from,
     * with what was read of its live memory since: the Method*s of its metadata by index (0: not
     * read yet) and whether it records debug information between safepoints. Kept by compile id,
     * so that a frame of an nmethod freed since can still be told by what was read while it lived
     * ({@link #scopesOfFreed}).
     */
    private static final class DebugInfo {
        final long codeBegin;
        final long end;
        final int[] pcOffsets;
        final int[] decodeOffsets;
        final byte[] scopes;
        final long metadataBegin;
        long[] methods = new long[8];
        /** -1: not known yet; 0 or 1. */
        int nonSafepoints = -1;

        DebugInfo(long codeBegin, long end, int[] pcOffsets, int[] decodeOffsets, byte[] scopes, long metadataBegin) {
            this.codeBegin = codeBegin;
            this.end = end;
            this.pcOffsets = pcOffsets;
            this.decodeOffsets = decodeOffsets;
            this.scopes = scopes;
            this.metadataBegin = metadataBegin;
        }

        /** The Method* at a metadata index (1 up), read from the live nmethod when live, else as read before; 0 if not known. */
        synchronized long method(int index, boolean live) {
            if (index - 1 < methods.length && methods[index - 1] != 0) {
                return methods[index - 1];
            }
            if (!live) {
                return 0;
            }
            long m = SafeMemory.readLong(metadataBegin + 8L * (index - 1), 0);
            if (m != 0 && index <= MAX_METADATA) {
                if (index - 1 >= methods.length) {
                    methods = java.util.Arrays.copyOf(methods, Math.max(index, methods.length * 2));
                }
                methods[index - 1] = m;
            }
            return m;
        }
    }

    private static final int PC_DESC_SENTINEL = Integer.MAX_VALUE;
    private static final int MAX_DEBUG_BYTES = 4 << 20;
    private static final int MAX_INLINE_DEPTH = 64;
    private static final int DEBUG_INFO_CACHE = 2048;
    /** Metadata entries remembered of an nmethod (its Method*s: a few, up to hundreds with deep inlining). */
    private static final int MAX_METADATA = 1 << 16;

    private final Layout l;
    private final List<Heap> heaps;
    private final long lowBound;
    private final long highBound;
    private final long interpreterStart;
    private final long interpreterEnd;
    private final long callStubReturn;
    private final Map<Long, String> names = new LinkedHashMap<>();
    /** By compile id. */
    private final Map<Integer, DebugInfo> debugInfo = Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, DebugInfo> eldest) {
            return size() > DEBUG_INFO_CACHE;
        }
    });

    /** The field offsets this reader needs, all from VMStructs: no HotSpot layout is hard-coded. */
    private record Layout(long heapMemory, long heapSegmap, long heapLog2, long vsLow, long vsHighBoundary,
            long gaLen, long gaData, long blockUsed, long heapBlockSize, long blobName, long blobSize, long blobKind,
            long blobCodeOffset, long blobRelocationSize, long blobMutableData, long nmMethod,
            long nmImmutableData, long nmImmutableDataSize, long nmScopesPcsOffset, long nmScopesDataOffset,
            long nmCompileId, long nmSize, long pcDescSize, long pcOffset, long pcScopeDecodeOffset, int kindNMethod,
            int invocationEntryBci, long stubBuffer, long bufferLimit) {
    }

    private CodeCache(Layout l, List<Heap> heaps, long lowBound, long highBound, long interpreterStart,
            long interpreterEnd, long callStubReturn) {
        this.l = l;
        this.heaps = heaps;
        this.lowBound = lowBound;
        this.highBound = highBound;
        this.interpreterStart = interpreterStart;
        this.interpreterEnd = interpreterEnd;
        this.callStubReturn = callStubReturn;
    }

    /** Reads the code heaps and the interpreter's bounds; empty (with the reason logged) if VMStructs lack a field. */
    public static Optional<CodeCache> load(VmStructs vm) {
        try {
            Layout l = new Layout(vm.requireField("CodeHeap", "_memory"), vm.requireField("CodeHeap", "_segmap"),
                    vm.requireField("CodeHeap", "_log2_segment_size"), vm.requireField("VirtualSpace", "_low"),
                    vm.requireField("VirtualSpace", "_high_boundary"), vm.requireField("GrowableArrayBase", "_len"),
                    vm.requireField("GrowableArray<int>", "_data"), vm.requireField("HeapBlock::Header", "_used"),
                    vm.requireSize("HeapBlock"), vm.requireField("CodeBlob", "_name"), vm.requireField("CodeBlob", "_size"),
                    vm.requireField("CodeBlob", "_kind"), vm.requireField("CodeBlob", "_code_offset"), vm.requireField("CodeBlob", "_relocation_size"),
                    vm.requireField("CodeBlob", "_mutable_data"), vm.requireField("nmethod", "_method"),
                    vm.requireField("nmethod", "_immutable_data"), vm.requireField("nmethod", "_immutable_data_size"),
                    vm.requireField("nmethod", "_scopes_pcs_offset"), vm.requireField("nmethod", "_scopes_data_offset"),
                    vm.requireField("nmethod", "_compile_id"), vm.requireSize("nmethod"), vm.requireSize("PcDesc"),
                    vm.requireField("PcDesc", "_pc_offset"), vm.requireField("PcDesc", "_scope_decode_offset"),
                    vm.requireConstant("CodeBlobKind::Nmethod"), vm.requireConstant("InvocationEntryBci"),
                    vm.requireField("StubQueue", "_stub_buffer"), vm.requireField("StubQueue", "_buffer_limit"));
            long heapsArray = read(vm.requireStatic("CodeCache", "_heaps"));
            int count = SafeMemory.readInt(heapsArray + l.gaLen, 0);
            long data = read(heapsArray + l.gaData);
            List<Heap> heaps = new ArrayList<>();
            for (int i = 0; i < count && i < 16; i++) {
                long heap = read(data + 8L * i);
                long low = read(heap + l.heapMemory + l.vsLow);
                long high = read(heap + l.heapMemory + l.vsHighBoundary);
                long segmap = read(heap + l.heapSegmap + l.vsLow);
                int log2 = SafeMemory.readInt(heap + l.heapLog2, -1);
                if (low != 0 && high > low && segmap != 0 && log2 > 0 && log2 < 16) {
                    heaps.add(new Heap(low, high, segmap, log2));
                }
            }
            if (heaps.isEmpty()) {
                throw new IllegalStateException("no code heap readable");
            }
            long queue = read(vm.requireStatic("AbstractInterpreter", "_code"));
            long interpreter = read(queue + l.stubBuffer);
            int limit = SafeMemory.readInt(queue + l.bufferLimit, 0);
            long callStub = SafeMemory.readLong(vm.requireStatic("StubRoutines", "_call_stub_return_address"), 0);
            long lowBound = read(vm.requireStatic("CodeCache", "_low_bound"));
            long highBound = read(vm.requireStatic("CodeCache", "_high_bound"));
            return Optional.of(new CodeCache(l, List.copyOf(heaps), lowBound, highBound, interpreter,
                    interpreter + Math.max(0, limit), callStub));
        } catch (RuntimeException e) {
            Log.warn("Java frames cannot be named: HotSpot's code cache is not readable (%s)", e.getMessage());
            return Optional.empty();
        }
    }

    private static long read(long address) {
        long v = SafeMemory.readLong(address, 0);
        if (v == 0) {
            throw new IllegalStateException("unreadable pointer at 0x" + Long.toHexString(address));
        }
        return v;
    }

    /** The template interpreter's code: a pc in here runs whatever Java method its frame says. */
    public long interpreterStart() {
        return interpreterStart;
    }

    public long interpreterEnd() {
        return interpreterEnd;
    }

    public boolean inInterpreter(long pc) {
        return pc >= interpreterStart && pc < interpreterEnd;
    }

    /** The code cache's reserved range, [lowBound, highBound): JIT code, stubs, the interpreter. */
    public long lowBound() {
        return lowBound;
    }

    public long highBound() {
        return highBound;
    }

    /** Whether pc is in the code cache's reserved range (JIT code, stubs, the interpreter). */
    public boolean contains(long pc) {
        return Long.compareUnsigned(pc, lowBound) >= 0 && Long.compareUnsigned(pc, highBound) < 0;
    }

    /** The code heaps, in HotSpot's order. */
    public List<HeapBounds> heapBounds() {
        return heaps.stream().map(h -> new HeapBounds(h.low, h.high, h.segmapLow, h.log2SegmentSize)).toList();
    }

    /** The return address of the call stub: the frame where Java code is entered from the VM. */
    public boolean isCallStubReturn(long pc) {
        return pc == callStubReturn && pc != 0;
    }

    /** The blob that holds pc, re-read from the JVM (callers cache by pc). */
    public Optional<Blob> blobAt(long pc) {
        for (Heap h : heaps) {
            if (pc >= h.low && pc < h.high) {
                return blobIn(h, pc);
            }
        }
        return Optional.empty();
    }

    private Optional<Blob> blobIn(Heap h, long pc) {
        long segment = (pc - h.low) >>> h.log2SegmentSize;
        ByteBuffer window = null;
        long windowStart = 0;
        for (int hops = 0; hops < 1 << 16; hops++) {
            if (window == null || segment < windowStart) {
                // most blobs start within a few segments: read a little, more only when needed
                windowStart = Math.max(0, segment - (window == null ? 31 : 1023));
                window = SafeMemory.bytes(h.segmapLow + windowStart, (int) (segment - windowStart + 1));
                if (window == null) {
                    return Optional.empty();
                }
            }
            int hop = Byte.toUnsignedInt(window.get((int) (segment - windowStart)));
            if (hop == 0xFF) {
                return Optional.empty(); // free segment
            }
            if (hop == 0) {
                break;
            }
            segment -= hop;
            if (segment < 0) {
                return Optional.empty();
            }
        }
        long block = h.low + (segment << h.log2SegmentSize);
        ByteBuffer header = SafeMemory.bytes(block, (int) l.heapBlockSize);
        if (header == null || header.get((int) l.blockUsed) == 0) {
            return Optional.empty();
        }
        long blob = block + l.heapBlockSize;
        ByteBuffer b = SafeMemory.bytes(blob, (int) l.nmSize);
        if (b == null) {
            return Optional.empty();
        }
        int size = b.getInt((int) l.blobSize);
        int codeOffset = b.getInt((int) l.blobCodeOffset);
        if (size <= 0 || pc >= blob + size || codeOffset < 0 || codeOffset > size) {
            return Optional.empty();
        }
        int kind = Byte.toUnsignedInt(b.get((int) l.blobKind));
        String name = name(b.getLong((int) l.blobName));
        long method = kind == l.kindNMethod ? b.getLong((int) l.nmMethod) : 0;
        int compileId = kind == l.kindNMethod ? b.getInt((int) l.nmCompileId) : 0;
        return Optional.of(new Blob(blob, name, kind, blob + codeOffset, blob + size, method, compileId));
    }

    private String name(long pointer) {
        synchronized (names) {
            String n = names.get(pointer);
            if (n == null) {
                n = SafeMemory.cString(pointer, 256);
                if (n == null || n.isEmpty()) {
                    n = "[unknown stub]";
                }
                if (names.size() < 4096) {
                    names.put(pointer, n);
                }
            }
            return n;
        }
    }

    /**
     * Whether nm is still the blob at pc: neither freed nor its space taken by another nmethod
     * since it was read (which a compile id of its own tells). Asked after its debug information
     * and its methods are read, so that they are known to be of the nmethod that ran there.
     */
    public boolean holds(Blob nm, long pc) {
        Optional<Blob> now = blobAt(pc);
        return now.isPresent() && now.get().address() == nm.address() && now.get().kind() == nm.kind()
                && now.get().compileId() == nm.compileId() && now.get().method() == nm.method();
    }

    /**
     * The scopes at pc in an nmethod, innermost (the most deeply inlined method) first; the last
     * is the nmethod's own method. pc is a return address or, for the innermost frame of a
     * sample, any pc: the scope is the one recorded at the first PcDesc at or after it.
     */
    public List<Scope> scopesAt(Blob nm, long pc) {
        if (!nm.isNMethod()) {
            return List.of();
        }
        DebugInfo d = debugInfo(nm);
        List<Scope> scopes = d == null ? null : scopesAt(d, pc, false, nm, true);
        return scopes == null ? List.of() : scopes;
    }

    /**
     * The scopes at pc (atReturn: a return address) of an nmethod freed since its frame was
     * sampled, by its compile id, from what was read of it while it lived ({@link #forget} drops
     * what a read of an nmethod that did not stay proved): null when that is not all there.
     */
    public List<Scope> scopesOfFreed(int compileId, long pc, boolean atReturn) {
        DebugInfo d = debugInfo.get(compileId);
        return d == null ? null : scopesAt(d, pc, atReturn, null, false);
    }

    /** Forgets what was read of a compilation: its nmethod did not stay while it was read, and the reads may be of what came after. */
    public void forget(int compileId) {
        debugInfo.remove(compileId);
    }

    /** The scopes at pc in d; nm (live only): the nmethod to read what d does not know yet. Null when not known. */
    private List<Scope> scopesAt(DebugInfo d, long pc, boolean atReturn, Blob nm, boolean live) {
        long rel = pc - d.codeBegin;
        if (rel < 0 || rel > Integer.MAX_VALUE || pc >= d.end) {
            return live ? List.of() : null; // not this compilation's code
        }
        int i = firstAtOrAfter(d.pcOffsets, (int) rel);
        if (i < 0) {
            return List.of();
        }
        if (atReturn && d.pcOffsets[i] != rel) {
            synchronized (d) {
                if (d.nonSafepoints < 0 && live) {
                    d.nonSafepoints = recordsNonSafepoints(nm, d) ? 1 : 0;
                }
            }
            if (d.nonSafepoints < 0) {
                return null;
            }
            if (d.nonSafepoints == 0) {
                return List.of();
            }
        }
        return scopesAtPcDesc(d, i, live);
    }

    /** The chain of scopes of the i-th PcDesc, innermost first; null when a method is not known (not live). */
    private List<Scope> scopesAtPcDesc(DebugInfo d, int i, boolean live) {
        List<Scope> scopes = new ArrayList<>(4);
        int offset = d.decodeOffsets[i];
        while (offset > 0 && offset < d.scopes.length && scopes.size() < MAX_INLINE_DEPTH) {
            Unsigned5 in = new Unsigned5(d.scopes, offset);
            int sender = in.next();
            int methodIndex = in.next();
            int bci = in.next() + l.invocationEntryBci;
            if (sender < 0 || methodIndex <= 0) {
                break;
            }
            long method = d.method(methodIndex, live);
            if (method == 0) {
                if (!live) {
                    return null;
                }
                break;
            }
            scopes.add(new Scope(method, bci));
            if (sender == offset) {
                break;
            }
            offset = sender;
        }
        return scopes;
    }

    /**
     * The scopes at a return address in an nmethod (a frame that called out), innermost first:
     * those of the PcDesc HotSpot records for the call, keyed by its return address, as HotSpot
     * itself resolves a caller's frame. A call without one (a leaf call into a stub is no
     * safepoint) is described by the next PcDesc only when the nmethod was compiled with debug
     * information between safepoints (DebugNonSafepoints, or a JVMTI agent that asks for it): a
     * PcDesc then ends each run of code of one scope. Otherwise the next PcDesc is the next
     * safepoint's, often in another inlined method, and the frame gets no scopes (its own method).
     */
    public List<Scope> scopesAtReturn(Blob nm, long returnAddress) {
        if (!nm.isNMethod()) {
            return List.of();
        }
        DebugInfo d = debugInfo(nm);
        List<Scope> scopes = d == null ? null : scopesAt(d, returnAddress, true, nm, true);
        return scopes == null ? List.of() : scopes;
    }

    /**
     * Whether an nmethod has PcDescs between its safepoints: one with a scope that no oop map
     * shares (every safepoint has an oop map at its pc; HotSpot's sentinels, before the code and
     * after it, have no scope).
     */
    private boolean recordsNonSafepoints(Blob nm, DebugInfo d) {
        int[] safepoints = oopMapPcs(nm);
        if (safepoints == null) {
            return false;
        }
        for (int i = 0; i < d.pcOffsets.length; i++) {
            if (d.pcOffsets[i] >= 0 && d.decodeOffsets[i] > 0 && java.util.Arrays.binarySearch(safepoints, d.pcOffsets[i]) < 0) {
                return true;
            }
        }
        return false;
    }

    /** The pc offsets of an nmethod's oop maps (ImmutableOopMapSet: count, size, then (pc, offset) pairs), sorted; null if unreadable. */
    private int[] oopMapPcs(Blob nm) {
        OopMapLayout o = oopMapLayout();
        if (o == null) {
            return null;
        }
        long set = SafeMemory.readLong(nm.address() + o.blobOopMaps, 0);
        int count = set == 0 ? -1 : SafeMemory.readInt(set + o.setCount, -1);
        if (count < 0 || count > 1 << 20) {
            return null;
        }
        ByteBuffer pairs = count == 0 ? ByteBuffer.allocate(0) : SafeMemory.bytes(set + o.pairsStart, (int) (count * o.pairSize));
        if (pairs == null) {
            return null;
        }
        int[] pcs = new int[count];
        for (int i = 0; i < count; i++) {
            pcs[i] = pairs.getInt((int) (i * o.pairSize + o.pairPc));
        }
        java.util.Arrays.sort(pcs);
        return pcs;
    }

    /** Where an nmethod's oop maps are (VMStructs): read on first use, null if this JVM's table lacks them. */
    private record OopMapLayout(long blobOopMaps, long setCount, long pairsStart, long pairSize, long pairPc) {
    }

    private volatile Optional<OopMapLayout> oopMapLayout;

    private OopMapLayout oopMapLayout() {
        Optional<OopMapLayout> o = oopMapLayout;
        if (o == null) {
            o = VmStructs.load().flatMap(vm -> {
                try {
                    return Optional.of(new OopMapLayout(vm.requireField("CodeBlob", "_oop_maps"),
                            vm.requireField("ImmutableOopMapSet", "_count"), vm.requireSize("ImmutableOopMapSet"),
                            vm.requireSize("ImmutableOopMapPair"), vm.requireField("ImmutableOopMapPair", "_pc_offset")));
                } catch (RuntimeException e) {
                    return Optional.empty();
                }
            });
            oopMapLayout = o;
        }
        return o.orElse(null);
    }

    private static int firstAtOrAfter(int[] sorted, int value) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < sorted.length ? lo : -1;
    }

    private DebugInfo debugInfo(Blob nm) {
        // by compile id: the same space is taken by one nmethod after another, each a compilation of its own
        DebugInfo d = debugInfo.get(nm.compileId());
        if (d != null) {
            return d;
        }
        ByteBuffer b = SafeMemory.bytes(nm.address(), (int) l.nmSize);
        if (b == null || b.getInt((int) l.nmCompileId) != nm.compileId()) {
            return null; // another nmethod there since nm was read
        }
        long immutable = b.getLong((int) l.nmImmutableData);
        int immutableSize = b.getInt((int) l.nmImmutableDataSize);
        int pcsOffset = b.getInt((int) l.nmScopesPcsOffset);
        int scopesOffset = b.getInt((int) l.nmScopesDataOffset);
        long metadataBegin = b.getLong((int) l.blobMutableData) + b.getInt((int) l.blobRelocationSize);
        // JDK 25: [dependencies...][PcDescs: pcsOffset..scopesOffset][scope data: scopesOffset..]
        if (immutable == 0 || immutableSize <= 0 || immutableSize > MAX_DEBUG_BYTES || pcsOffset < 0
                || scopesOffset < pcsOffset || scopesOffset >= immutableSize) {
            return null;
        }
        ByteBuffer pcs = scopesOffset == pcsOffset ? null : SafeMemory.bytes(immutable + pcsOffset, scopesOffset - pcsOffset);
        byte[] scopes = new byte[immutableSize - scopesOffset];
        if (pcs == null || !SafeMemory.read(immutable + scopesOffset, scopes, 0, scopes.length)) {
            return null;
        }
        int stride = (int) l.pcDescSize;
        int n = pcs.limit() / stride;
        int[] pcOffsets = new int[n];
        int[] decodeOffsets = new int[n];
        int count = 0;
        int last = Integer.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            int pcOffset = pcs.getInt(i * stride + (int) l.pcOffset);
            if (pcOffset == PC_DESC_SENTINEL || pcOffset < last) {
                break;
            }
            last = pcOffset;
            pcOffsets[count] = pcOffset;
            decodeOffsets[count] = pcs.getInt(i * stride + (int) l.pcScopeDecodeOffset);
            count++;
        }
        d = new DebugInfo(nm.codeBegin(), nm.end(), java.util.Arrays.copyOf(pcOffsets, count), java.util.Arrays.copyOf(decodeOffsets, count),
                scopes, metadataBegin);
        debugInfo.put(nm.compileId(), d);
        return d;
    }
}
