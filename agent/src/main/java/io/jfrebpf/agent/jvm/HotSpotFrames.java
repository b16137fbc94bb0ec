package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.bpf.StackLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;

/**
 * What the kernel's stack walk (bpf/stack.bpf.h) needs to step HotSpot's frames without frame
 * pointers, from VMStructs: the code heaps and their segment maps (where the code blob of a pc
 * starts), the CodeBlob and nmethod fields it reads there (frame size, code begin, frame-complete
 * offset, kind, verified entry, deoptimization handlers, where a deoptimized frame keeps its
 * pc, and the compile id each compiled frame is recorded with), the entry frame's return
 * address, Continuation.enterSpecial's return pc and where a thread keeps its continuation
 * entry, and where an upcall stub keeps the anchor of the Java frame that called out. Handed over once, in {@code .rodata} ({@code struct hotspot_layout} of bpf/stack.h):
 * the heaps' bounds are fixed when the JVM starts, the segment maps and blobs are read live by
 * the walk as code is compiled and freed.
 *
 * <p>Nothing here is guessed: a field VMStructs does not list turns its part of the walk off
 * (0), and a JVM whose code heaps or blob layout cannot be read gets none of it (the walk then
 * follows frame pointers in the code cache, as with -XX:+PreserveFramePointer).
 */
public final class HotSpotFrames {
    private static final int MAX_HEAPS = (int) StackLayout.CODE_HEAPS_MAX;
    private static final int HEADER_MAX = (int) StackLayout.BLOB_HEADER_MAX;

    private final byte[] layout;
    private final int heapCount;

    private HotSpotFrames(byte[] layout, int heapCount) {
        this.layout = layout;
        this.heapCount = heapCount;
    }

    /** This JVM's layout, or empty with the reason logged. */
    public static Optional<HotSpotFrames> find(VmStructs vm, CodeCache code) {
        try {
            return Optional.of(read(vm, code));
        } catch (RuntimeException e) {
            Log.warn("Java stacks follow frame pointers: HotSpot's code blobs are not readable (%s)", e.getMessage());
            return Optional.empty();
        }
    }

    private static HotSpotFrames read(VmStructs vm, CodeCache code) {
        List<CodeCache.HeapBounds> heaps = code.heapBounds();
        if (heaps.isEmpty() || heaps.size() > MAX_HEAPS) {
            throw new IllegalStateException(heaps.size() + " code heaps (at most " + MAX_HEAPS + " are walked)");
        }
        ByteBuffer b = ByteBuffer.allocate((int) StackLayout.HotspotLayout.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < heaps.size(); i++) {
            CodeCache.HeapBounds h = heaps.get(i);
            int at = (int) (StackLayout.HotspotLayout.HEAPS + i * StackLayout.CodeHeap.SIZE);
            b.putLong(at + (int) StackLayout.CodeHeap.LOW, h.low());
            b.putLong(at + (int) StackLayout.CodeHeap.HIGH, h.high());
            b.putLong(at + (int) StackLayout.CodeHeap.SEGMAP, h.segmap());
            b.putInt(at + (int) StackLayout.CodeHeap.LOG2_SEGMENT, h.log2SegmentSize());
        }
        b.putInt((int) StackLayout.HotspotLayout.HEAP_COUNT, heaps.size());
        b.putInt((int) StackLayout.HotspotLayout.HEAP_BLOCK_SIZE, (int) vm.requireSize("HeapBlock"));
        long nmethod = vm.requireSize("nmethod");
        if (vm.requireSize("HeapBlock") + nmethod > HEADER_MAX || nmethod < vm.requireSize("CodeBlob")) {
            throw new IllegalStateException("sizeof(HeapBlock) + sizeof(nmethod) = " + (vm.requireSize("HeapBlock") + nmethod)
                    + ", the walk reads " + HEADER_MAX);
        }
        b.putInt((int) StackLayout.HotspotLayout.HEADER_SIZE, (int) nmethod);
        // every offset the walk reads inside the header: field offset + its size within what it reads
        put(b, StackLayout.HotspotLayout.BLOCK_USED, vm.requireField("HeapBlock::Header", "_used"), 1, vm.requireSize("HeapBlock"));
        put(b, StackLayout.HotspotLayout.BLOB_SIZE, vm.requireField("CodeBlob", "_size"), 4, nmethod);
        put(b, StackLayout.HotspotLayout.BLOB_CODE_OFFSET, vm.requireField("CodeBlob", "_code_offset"), 4, nmethod);
        put(b, StackLayout.HotspotLayout.BLOB_FRAME_SIZE, vm.requireField("CodeBlob", "_frame_size"), 4, nmethod);
        put(b, StackLayout.HotspotLayout.BLOB_FRAME_COMPLETE, vm.requireField("CodeBlob", "_frame_complete_offset"), 2, nmethod);
        put(b, StackLayout.HotspotLayout.BLOB_KIND, vm.requireField("CodeBlob", "_kind"), 1, nmethod);
        put(b, StackLayout.HotspotLayout.NM_VERIFIED_ENTRY, vm.requireField("nmethod", "_verified_entry_offset"), 2, nmethod);
        put(b, StackLayout.HotspotLayout.NM_DEOPT_HANDLER, vm.requireField("nmethod", "_deopt_handler_offset"), 4, nmethod);
        put(b, StackLayout.HotspotLayout.NM_DEOPT_MH_HANDLER, vm.requireField("nmethod", "_deopt_mh_handler_offset"), 4, nmethod);
        put(b, StackLayout.HotspotLayout.NM_ORIG_PC, vm.requireField("nmethod", "_orig_pc_offset"), 4, nmethod);
        put(b, StackLayout.HotspotLayout.NM_COMPILE_ID, vm.requireField("nmethod", "_compile_id"), 4, nmethod);
        if (vm.requireSize("CodeBlobKind") != 1) {
            throw new IllegalStateException("CodeBlob::_kind is not one byte");
        }
        b.put((int) StackLayout.HotspotLayout.KIND_NMETHOD, kind(vm, "Nmethod", true));
        b.put((int) StackLayout.HotspotLayout.KIND_ADAPTER, kind(vm, "Adapter", false));
        b.put((int) StackLayout.HotspotLayout.KIND_VTABLE, kind(vm, "Vtable", false));
        b.put((int) StackLayout.HotspotLayout.KIND_MH_ADAPTER, kind(vm, "MHAdapter", false));
        b.put((int) StackLayout.HotspotLayout.KIND_UPCALL, kind(vm, "Upcall", false));
        // an upcall stub's anchor: where its frame's data is (an int in the blob), the anchor in it
        long frameData = vm.fieldOffset("UpcallStub", "_frame_data_offset").orElse(-1);
        long jfa = vm.fieldOffset("UpcallStub::FrameData", "jfa").orElse(-1);
        if (frameData >= 0 && frameData + 4 <= vm.typeSize("UpcallStub").orElse(0) && frameData + 4 <= nmethod && jfa >= 0
                && jfa < 0xffff) {
            put(b, StackLayout.HotspotLayout.UPCALL_FRAME_DATA, frameData, 4, nmethod);
            b.putShort((int) StackLayout.HotspotLayout.UPCALL_ANCHOR, (short) jfa);
        } else {
            b.put((int) StackLayout.HotspotLayout.KIND_UPCALL, (byte) 0xff); // no upcall's anchor is read
        }
        b.putLong((int) StackLayout.HotspotLayout.CALL_STUB_RETURN, value(vm, "StubRoutines", "_call_stub_return_address"));
        // a mounted continuation: enterSpecial's return pc and where the thread keeps its entry
        long contReturn = value(vm, "ContinuationEntry", "_return_pc");
        long contEntry = vm.fieldOffset("JavaThread", "_cont_entry").orElse(0);
        long entrySize = vm.typeSize("ContinuationEntry").orElse(0);
        if (contReturn != 0 && contEntry > 0 && entrySize > 0 && entrySize < 4096) {
            b.putLong((int) StackLayout.HotspotLayout.CONT_RETURN_PC, contReturn);
            b.putInt((int) StackLayout.HotspotLayout.CONT_ENTRY_SIZE, (int) entrySize);
            b.putInt((int) StackLayout.HotspotLayout.JT_CONT_ENTRY, (int) contEntry);
        }
        return new HotSpotFrames(b.array(), heaps.size());
    }

    /** An offset into the header the walk reads (of `within` bytes), checked to hold a field of `size` bytes. */
    private static void put(ByteBuffer b, long at, long offset, int size, long within) {
        if (offset < 0 || offset + size > within || offset > 0xffff) {
            throw new IllegalStateException("field at " + offset + " (" + size + " bytes) is not within " + within + " bytes");
        }
        b.putShort((int) at, (short) offset);
    }

    private static byte kind(VmStructs vm, String name, boolean required) {
        int k = required ? vm.requireConstant("CodeBlobKind::" + name) : vm.intConstant("CodeBlobKind::" + name).orElse(0xff);
        if (k < 0 || k > 0xff) {
            throw new IllegalStateException("CodeBlobKind::" + name + " = " + k);
        }
        return (byte) k;
    }

    /** The value of a static pointer VMStructs lists, or 0. */
    private static long value(VmStructs vm, String type, String field) {
        long address = vm.staticAddress(type, field).orElse(0);
        return address == 0 ? 0 : SafeMemory.readLong(address, 0);
    }

    /** {@code struct hotspot_layout}, for {@code .rodata} ({@link io.jfrebpf.agent.libbpf.Rodata#setBytes}). */
    public byte[] layout() {
        return layout.clone();
    }

    public int heapCount() {
        return heapCount;
    }
}
