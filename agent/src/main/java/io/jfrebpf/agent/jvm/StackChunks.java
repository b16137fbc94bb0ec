package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.ElfFiles;
import io.jfrebpf.agent.os.ProcMaps;
import io.jfrebpf.bpf.StackChunkNames;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where the kernel's walk reads the frames of a mounted virtual thread that are still in its stack
 * chunks on the heap (bpf/stack_chunk.bpf.h): the mounted continuation in enterSpecial's
 * ContinuationEntry, its {@code Continuation.tail}, and a {@code StackChunk}'s parent, size, sp,
 * bottom, cont and where its stack begins. HotSpot keeps the field offsets of these classes in
 * libjvm's statics ({@code jdk_internal_vm_StackChunk::_sp_offset} ...; VMStructs do not list them),
 * read here from libjvm's symbol table; and how the heap keeps an oop field: a narrow oop with
 * compressed oops ({@code CompressedOops::_base}, {@code _shift} from VMStructs), ZGC's coloured
 * pointer, or an address.
 *
 * <p>{@code ContinuationEntry::_cont} is the word after {@code _parent} in HotSpot's product
 * builds (not in VMStructs either). Everything is checked before a program relies on it, on a
 * virtual thread of the agent's own that parks deep in a recursion, so that its continuation is
 * thawed lazily and its chunk keeps frames: the chunk the tail leads to must lead back to the
 * continuation read in the entry, and hold frames within its bounds. When a part is missing or
 * the check fails, no program reads chunks (their frames stay a marked gap), as {@link #describe}
 * says.
 */
public final class StackChunks {
    static final int WIDE = 1;
    static final int NARROW = 2;
    static final int ZGC = 3;
    /** Frames of the check's recursion: enough words that a thaw leaves most in the chunk (HotSpot thaws all below 500). */
    static final int CHECK_DEPTH = 120;
    static final int CHECK_MOUNTS = 4;
    static final long CHECK_TIMEOUT_MS = 5_000;

    /** The fields, as .rodata of bpf/stack_chunk.bpf.h. */
    record Layout(int oops, long narrowBase, int narrowShift, int entryCont, int contTail, int parent, int size, int sp, int bottom,
            int cont, int stack) {
        Layout withEntryCont(int at) {
            return new Layout(oops, narrowBase, narrowShift, at, contTail, parent, size, sp, bottom, cont, stack);
        }
    }

    private final Layout layout;
    private final String how;

    private StackChunks(Layout layout, String how) {
        this.layout = layout;
        this.how = how;
    }

    /** No chunk is read, for the reason given. */
    public static StackChunks unknown(String reason) {
        return new StackChunks(null, reason);
    }

    /** This JVM's layout, checked on a virtual thread of the agent's own; never throws. */
    public static StackChunks find(VmStructs vm, FrameAnchors tls) {
        try {
            Layout read = read(vm);
            long contEntry = vm.requireField("JavaThread", "_cont_entry");
            int entrySize = (int) vm.requireSize("ContinuationEntry");
            int[] chunks = new int[1];
            Layout l = check(read, tls, contEntry, entrySize, chunks);
            StackChunks c = new StackChunks(l, "virtual threads' frames in their stack chunks walked (" + oopsName(l.oops())
                    + " oops, ContinuationEntry::_cont at +" + l.entryCont() + " found by calibration; checked on " + chunks[0]
                    + " chunks)");
            Log.debug("stacks: %s", c.how);
            return c;
        } catch (Throwable e) {
            String reason = "frames of virtual threads still in their stack chunks are a marked gap: the chunks are not readable here ("
                    + (e.getMessage() == null ? e.toString() : e.getMessage()) + ")";
            Log.info("stacks: %s", reason);
            return unknown(reason);
        }
    }

    private static String oopsName(int oops) {
        return switch (oops) {
            case NARROW -> "compressed";
            case ZGC -> "ZGC's coloured";
            default -> "64-bit";
        };
    }

    /** Whether the programs walk chunks. */
    public boolean known() {
        return layout != null;
    }

    /** How chunks are read, or why not. */
    public String describe() {
        return how;
    }

    /** Sets the .rodata of an object that walks stacks (bpf/stack_chunk.bpf.h); before load. */
    public void prepare(BpfObject object) throws BpfException {
        if (layout == null || !object.rodata().names().contains(StackChunkNames.Rodata.CHUNK_OOPS)) {
            return;
        }
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_OOPS, layout.oops());
        object.rodata().setLong(StackChunkNames.Rodata.CHUNK_NARROW_BASE, layout.narrowBase());
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_NARROW_SHIFT, layout.narrowShift());
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_ENTRY_CONT, layout.entryCont());
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_CONT_TAIL, layout.contTail());
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_PARENT, layout.parent());
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_SIZE, layout.size());
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_SP, layout.sp());
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_BOTTOM, layout.bottom());
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_CONT, layout.cont());
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_STACK, layout.stack());
    }

    private static final String CHUNK = "_ZN26jdk_internal_vm_StackChunk";
    private static final List<String> SYMBOLS = List.of(CHUNK + "14_parent_offsetE", CHUNK + "12_size_offsetE", CHUNK + "10_sp_offsetE",
            CHUNK + "14_bottom_offsetE", CHUNK + "12_cont_offsetE", "_ZN28jdk_internal_vm_Continuation12_tail_offsetE",
            "_ZN23InstanceStackChunkKlass16_offset_of_stackE");

    private static Layout read(VmStructs vm) throws Exception {
        ProcMaps maps = ProcMaps.selfAtStart();
        Path libjvm = maps.libjvm().orElseThrow(() -> new IllegalStateException("libjvm not mapped"));
        ProcMaps.Mapping base = maps.mappings().stream().filter(m -> m.path().equals(libjvm.toString()) && m.offset() == 0).findFirst()
                .orElseThrow(() -> new IllegalStateException("libjvm's first mapping not found"));
        int[] v = new int[SYMBOLS.size()];
        try (ElfFile elf = ElfFiles.open(libjvm)) {
            // local data symbols, in .symtab only: one pass over it
            Map<String, ElfFile.Symbol> found = elf.dataSymbols(SYMBOLS);
            for (int i = 0; i < v.length; i++) {
                ElfFile.Symbol s = found.get(SYMBOLS.get(i));
                if (s == null) {
                    throw new IllegalStateException("libjvm has no symbol " + SYMBOLS.get(i));
                }
                long at = elf.runtimeAddress(s.value(), base.start(), base.offset());
                v[i] = SafeMemory.readInt(at, -1);
                if (v[i] <= 0 || v[i] > 4096) {
                    throw new IllegalStateException(SYMBOLS.get(i) + " = " + v[i]);
                }
            }
        }
        int oops;
        long narrowBase = 0;
        int narrowShift = 0;
        var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        if (Boolean.parseBoolean(bean.getVMOption("UseZGC").getValue())) {
            oops = ZGC;
        } else if (Boolean.parseBoolean(bean.getVMOption("UseCompressedOops").getValue())) {
            oops = NARROW;
            narrowBase = SafeMemory.readLong(vm.requireStatic("CompressedOops", "_base"), -1);
            narrowShift = SafeMemory.readInt(vm.requireStatic("CompressedOops", "_shift"), -1);
            if (narrowBase == -1 || narrowShift < 0 || narrowShift > 7) {
                throw new IllegalStateException("compressed oops: base 0x" + Long.toHexString(narrowBase) + ", shift " + narrowShift);
            }
        } else {
            oops = WIDE;
        }
        return new Layout(oops, narrowBase, narrowShift, -1, v[5], v[0], v[1], v[2], v[3], v[4], v[6]);
    }

    /** The object an oop field at p refers to, as bpf/stack_chunk.bpf.h's chunk_oop reads it; 0 null, 1 not readable. */
    static long oop(Layout l, long p) {
        long v;
        if (l.oops() == NARROW) {
            int n = SafeMemory.readInt(p, 0);
            return n == 0 ? 0 : decodeNarrow(l.narrowBase(), l.narrowShift(), n);
        }
        v = SafeMemory.readLong(p, 0);
        return l.oops() == ZGC ? decodeZgc(v) : v;
    }

    static long decodeNarrow(long base, int shift, int narrow) {
        return base + (Integer.toUnsignedLong(narrow) << shift);
    }

    /** ZPointer::uncolor on x86-64: the one remapped bit among bits 12-15 gives the shift (13-16); 1 when there is none. */
    static long decodeZgc(long colored) {
        if (colored == 0) {
            return 0;
        }
        long remap = (colored >>> 12) & 0xf;
        if (Long.bitCount(remap) != 1) {
            return 1;
        }
        return colored >>> (13 + Long.numberOfTrailingZeros(remap));
    }

    /**
     * On a virtual thread of ours, parked at the bottom of a recursion CHECK_MOUNTS times: each time
     * it runs again, the word of its ContinuationEntry that holds its continuation is the one whose
     * tail chunk leads back to it (the same word every time), that chunk keeps its frames within
     * its bounds, and one at least holds frames (a lazy thaw). Returns the layout with that word;
     * chunks[0]: the chunks looked at.
     */
    static Layout check(Layout l, FrameAnchors tls, long contEntry, int entrySize, int[] chunks) throws Throwable {
        List<String> failures = new ArrayList<>();
        int[] seen = new int[2]; // chunks looked at, of which with frames
        AtomicReference<Layout> found = new AtomicReference<>(l);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread v = Thread.ofVirtual().name("jfr-ebpf-chunk-check").unstarted(() -> {
            try {
                recurse(CHECK_DEPTH, () -> {
                    for (int m = 0; m < CHECK_MOUNTS; m++) {
                        Thread.sleep(1); // unmounts; the thaw back leaves the recursion in the chunk
                        String failure = look(found, tls, contEntry, entrySize, seen);
                        if (failure != null) {
                            failures.add(failure);
                        }
                    }
                });
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        v.start();
        if (!v.join(java.time.Duration.ofMillis(CHECK_TIMEOUT_MS))) {
            throw new IllegalStateException("the chunk check's virtual thread did not run within " + CHECK_TIMEOUT_MS + " ms");
        }
        if (thrown.get() != null) {
            throw thrown.get();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException(failures.get(0));
        }
        if (seen[1] == 0) {
            throw new IllegalStateException("no chunk with frames seen in " + seen[0] + " mounts");
        }
        chunks[0] = seen[0];
        return found.get();
    }

    /**
     * Checks the mounted continuation's tail chunk (the word of the entry that holds the
     * continuation found on the first look, kept in found); null when it checks out, else what is wrong.
     */
    private static String look(AtomicReference<Layout> found, FrameAnchors tls, long contEntry, int entrySize, int[] seen)
            throws Throwable {
        long thread = tls.currentThread();
        long entry = thread == 0 ? 0 : SafeMemory.readLong(thread + contEntry, 0);
        if (entry == 0 || (entry & 7) != 0) {
            return String.format("no ContinuationEntry at +%d of the JavaThread 0x%x: 0x%x", contEntry, thread, entry);
        }
        Layout l = found.get();
        List<Integer> at = new ArrayList<>();
        for (int off = 0; off + 8 <= entrySize; off += 8) {
            if ((l.entryCont() < 0 || off == l.entryCont()) && chunkOf(l, SafeMemory.readLong(entry + off, 0)) != 0) {
                at.add(off);
            }
        }
        if (at.size() != 1) {
            return at.isEmpty() ? String.format("no word of the ContinuationEntry 0x%x leads to a chunk of its own", entry)
                    : "several words of the ContinuationEntry lead to a chunk of their own: " + at;
        }
        l = l.withEntryCont(at.get(0));
        found.set(l);
        long chunk = chunkOf(l, SafeMemory.readLong(entry + l.entryCont(), 0));
        int size = SafeMemory.readInt(chunk + l.size(), -1);
        int sp = SafeMemory.readInt(chunk + l.sp(), -1);
        int bottom = SafeMemory.readInt(chunk + l.bottom(), -1);
        if (size < 0 || sp < 0 || bottom < 0 || bottom > size || sp > size) {
            return String.format("StackChunk 0x%x: size %d, sp %d, bottom %d", chunk, size, sp, bottom);
        }
        seen[0]++;
        if (sp < bottom) {
            seen[1]++;
        }
        return null;
    }

    /** The tail chunk of cont, if cont is a continuation whose tail leads back to it; else 0. */
    private static long chunkOf(Layout l, long cont) {
        if (cont == 0 || (cont & 7) != 0 || cont < 4096) {
            return 0;
        }
        long chunk = oop(l, cont + l.contTail());
        if (chunk == 0 || (chunk & 7) != 0 || chunk < 4096) {
            return 0;
        }
        return oop(l, chunk + l.cont()) == cont ? chunk : 0;
    }

    private interface Body {
        void run() throws Throwable;
    }

    private static void recurse(int depth, Body body) throws Throwable {
        if (depth == 0) {
            body.run();
        } else {
            recurse(depth - 1, body);
        }
    }
}
