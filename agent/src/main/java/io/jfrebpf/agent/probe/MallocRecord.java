package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.bpf.MallocLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Mirror of {@code struct malloc_record} and {@code struct live_allocation} (bpf/malloc.h). */
public record MallocRecord(EventHeader header, long address, long size, long weight, int function) {
    public static final long SIZE = MallocLayout.MallocRecord.SIZE;
    public static final long HEADER = MallocLayout.MallocRecord.HEADER;
    public static final long ADDRESS = MallocLayout.MallocRecord.ADDRESS;
    public static final long BYTES = MallocLayout.MallocRecord.BYTES;
    public static final long WEIGHT = MallocLayout.MallocRecord.WEIGHT;
    public static final long FUNCTION = MallocLayout.MallocRecord.FUNCTION;

    public static final int MALLOC = (int) MallocLayout.MALLOC_MALLOC;
    public static final int CALLOC = (int) MallocLayout.MALLOC_CALLOC;
    public static final int REALLOC = (int) MallocLayout.MALLOC_REALLOC;
    public static final int POSIX_MEMALIGN = (int) MallocLayout.MALLOC_POSIX_MEMALIGN;
    public static final int ALIGNED_ALLOC = (int) MallocLayout.MALLOC_ALIGNED_ALLOC;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    public static MallocRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "malloc_record");
        BpfBytes r = BpfBytes.of(record, SIZE);
        return new MallocRecord(EventHeader.decode(r), r.u64(ADDRESS), r.u64(BYTES), r.u64(WEIGHT), r.u32(FUNCTION));
    }

    /** The libc function's name. */
    public static String functionName(int function) {
        return switch (function) {
            case MALLOC -> "malloc";
            case CALLOC -> "calloc";
            case REALLOC -> "realloc";
            case POSIX_MEMALIGN -> "posix_memalign";
            case ALIGNED_ALLOC -> "aligned_alloc";
            default -> "function " + function;
        };
    }

    /** A sampled allocation not freed yet: a value of the kernel's {@code live} map (key: its address). */
    public record Live(long ns, long size, long weight, long userStack, int tid, int function) {
        public static final long SIZE = MallocLayout.LiveAllocation.SIZE;
        public static final long NS = MallocLayout.LiveAllocation.NS;
        public static final long BYTES = MallocLayout.LiveAllocation.BYTES;
        public static final long WEIGHT = MallocLayout.LiveAllocation.WEIGHT;
        public static final long USER_STACK = MallocLayout.LiveAllocation.USER_STACK;
        public static final long TID = MallocLayout.LiveAllocation.TID;
        public static final long FUNCTION = MallocLayout.LiveAllocation.FUNCTION;

        public static Live decode(MemorySegment value) {
            Records.requireSize(value, SIZE, "live_allocation");
            return new Live(value.get(U64, NS), value.get(U64, BYTES), value.get(U64, WEIGHT), value.get(U64, USER_STACK),
                    value.get(U32, TID), value.get(U32, FUNCTION));
        }
    }
}
