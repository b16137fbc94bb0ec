package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.ElfFiles;
import io.jfrebpf.agent.os.ProcMaps;
import io.jfrebpf.bpf.StackChunkNames;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the kernel's walk reads the frames of a mounted virtual thread that are still in its stack
 * chunks on the heap (bpf/stack_chunk.bpf.h): {@code Continuation.tail}, and a {@code
 * StackChunk}'s parent, size, sp, bottom, cont and where its stack begins. HotSpot keeps the field
 * offsets of these classes in libjvm's statics ({@code jdk_internal_vm_StackChunk::_sp_offset}
 * ...; VMStructs do not list them), read here from libjvm's symbol table; and how the heap keeps
 * an oop field, from libjvm's statics too: ZGC's coloured pointer when ZGC set its heap base
 * ({@code ZAddressHeapBase}), a narrow oop when compressed oops set their heap range ({@code
 * CompressedOops::_heap_address_range}; base and shift from VMStructs), else an address.
 *
 * <p>Nothing runs on a virtual thread for this (a JVM that runs none never starts a carrier pool
 * for the agent): the walk checks each chunk as it reads it instead, the chunk the continuation's
 * tail leads to must lead back to it ({@code StackChunk.cont}), which also finds the continuation
 * in enterSpecial's {@code ContinuationEntry} (its word {@code _cont} is not in VMStructs either).
 * A wrong offset or decoding fails that check on every stack: such stacks keep their marked gap.
 */
public final class StackChunks {
    static final int WIDE = 1;
    static final int NARROW = 2;
    static final int ZGC = 3;

    private static final String CHUNK = "_ZN26jdk_internal_vm_StackChunk";
    private static final String PARENT = CHUNK + "14_parent_offsetE";
    private static final String SIZE = CHUNK + "12_size_offsetE";
    private static final String SP = CHUNK + "10_sp_offsetE";
    private static final String BOTTOM = CHUNK + "14_bottom_offsetE";
    private static final String CONT = CHUNK + "12_cont_offsetE";
    private static final String TAIL = "_ZN28jdk_internal_vm_Continuation12_tail_offsetE";
    private static final String STACK = "_ZN23InstanceStackChunkKlass16_offset_of_stackE";
    private static final String Z_HEAP_BASE = "ZAddressHeapBase";
    private static final String NARROW_RANGE = "_ZN14CompressedOops19_heap_address_rangeE";
    private static final List<String> OFFSETS = List.of(PARENT, SIZE, SP, BOTTOM, CONT, TAIL, STACK);

    /** The .rodata of bpf/stack_chunk.bpf.h; null: chunks are not read. */
    private final int[] offsets; // parent, size, sp, bottom, cont, tail, stack
    private final int oops;
    private final long narrowBase;
    private final int narrowShift;
    private final int entrySize;
    private final String how;

    private StackChunks(int[] offsets, int oops, long narrowBase, int narrowShift, int entrySize, String how) {
        this.offsets = offsets;
        this.oops = oops;
        this.narrowBase = narrowBase;
        this.narrowShift = narrowShift;
        this.entrySize = entrySize;
        this.how = how;
    }

    /** No chunk is read, for the reason given. */
    public static StackChunks unknown(String reason) {
        return new StackChunks(null, 0, 0, 0, 0, reason);
    }

    /** This JVM's layout; never throws. */
    public static StackChunks find(VmStructs vm) {
        try {
            return read(vm);
        } catch (Exception | LinkageError e) {
            String reason = "frames of virtual threads still in their stack chunks are a marked gap: the chunks are not readable here ("
                    + (e.getMessage() == null ? e.toString() : e.getMessage()) + ")";
            Log.info("stacks: %s", reason);
            return unknown(reason);
        }
    }

    /** Whether the programs walk chunks. */
    public boolean known() {
        return offsets != null;
    }

    /** How chunks are read, or why not. */
    public String describe() {
        return how;
    }

    /** Sets the .rodata of an object that walks stacks (bpf/stack_chunk.bpf.h); before load. */
    public void prepare(BpfObject object) throws BpfException {
        if (offsets == null || !object.rodata().names().contains(StackChunkNames.Rodata.CHUNK_OOPS)) {
            return;
        }
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_OOPS, oops);
        object.rodata().setLong(StackChunkNames.Rodata.CHUNK_NARROW_BASE, narrowBase);
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_NARROW_SHIFT, narrowShift);
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_ENTRY_SIZE, entrySize);
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_PARENT, offsets[0]);
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_SIZE, offsets[1]);
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_SP, offsets[2]);
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_BOTTOM, offsets[3]);
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_CONT, offsets[4]);
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_CONT_TAIL, offsets[5]);
        object.rodata().setInt(StackChunkNames.Rodata.CHUNK_STACK, offsets[6]);
    }

    private static StackChunks read(VmStructs vm) throws Exception {
        int entrySize = (int) vm.requireSize("ContinuationEntry");
        if (entrySize < 16 || entrySize > 128) {
            throw new IllegalStateException("sizeof(ContinuationEntry) = " + entrySize);
        }
        ProcMaps maps = ProcMaps.selfAtStart();
        Optional<Path> found = maps.libjvm();
        if (found.isEmpty()) {
            throw new IllegalStateException("libjvm not mapped");
        }
        Path libjvm = found.get();
        ProcMaps.Mapping base = null;
        for (ProcMaps.Mapping m : maps.mappings()) {
            if (m.offset() == 0 && m.path().equals(libjvm.toString())) {
                base = m;
                break;
            }
        }
        if (base == null) {
            throw new IllegalStateException("libjvm's first mapping not found");
        }
        int[] offsets = new int[OFFSETS.size()];
        long zHeapBase;
        long narrowRange;
        try (ElfFile elf = ElfFiles.open(libjvm)) {
            // local data symbols, in .symtab only: one pass over it
            List<String> names = new java.util.ArrayList<>(OFFSETS);
            names.add(Z_HEAP_BASE);
            names.add(NARROW_RANGE);
            Map<String, ElfFile.Symbol> symbols = elf.dataSymbols(names);
            for (int i = 0; i < offsets.length; i++) {
                offsets[i] = SafeMemory.readInt(address(elf, base, symbols, OFFSETS.get(i)), -1);
                if (offsets[i] <= 0 || offsets[i] > 4096) {
                    throw new IllegalStateException(OFFSETS.get(i) + " = " + offsets[i]);
                }
            }
            zHeapBase = SafeMemory.readLong(address(elf, base, symbols, Z_HEAP_BASE), -1);
            narrowRange = SafeMemory.readLong(address(elf, base, symbols, NARROW_RANGE), -1);
        }
        if (zHeapBase == -1 || narrowRange == -1) {
            throw new IllegalStateException("ZAddressHeapBase or CompressedOops::_heap_address_range unreadable");
        }
        int oops;
        long narrowBase = 0;
        int narrowShift = 0;
        if (zHeapBase != 0) {
            oops = ZGC;
        } else if (narrowRange != 0) {
            oops = NARROW;
            narrowBase = SafeMemory.readLong(vm.requireStatic("CompressedOops", "_base"), -1);
            narrowShift = SafeMemory.readInt(vm.requireStatic("CompressedOops", "_shift"), -1);
            if (narrowBase == -1 || narrowShift < 0 || narrowShift > 7) {
                throw new IllegalStateException("compressed oops: base 0x" + Long.toHexString(narrowBase) + ", shift " + narrowShift);
            }
        } else {
            oops = WIDE;
        }
        String how = "virtual threads' frames in their stack chunks walked (" + (oops == ZGC ? "ZGC's coloured" : oops == NARROW
                ? "compressed" : "64-bit") + " oops, each chunk checked to lead back to its continuation)";
        Log.debug("stacks: %s", how);
        return new StackChunks(offsets, oops, narrowBase, narrowShift, entrySize, how);
    }

    private static long address(ElfFile elf, ProcMaps.Mapping base, Map<String, ElfFile.Symbol> symbols, String name)
            throws java.io.IOException {
        ElfFile.Symbol s = symbols.get(name);
        if (s == null) {
            throw new IllegalStateException("libjvm has no symbol " + name);
        }
        return elf.runtimeAddress(s.value(), base.start(), base.offset());
    }
}
