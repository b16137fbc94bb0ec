package io.jfrebpf.agent.probe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Mirror of {@code struct malloc_record} and {@code struct live_allocation} (bpf/malloc.h). */
public record MallocRecord(EventHeader header, long address, long size, long weight, int function) {
    public static final long SIZE = 88;
    public static final long HEADER = 0;
    public static final long ADDRESS = 56;
    public static final long BYTES = 64;
    public static final long WEIGHT = 72;
    public static final long FUNCTION = 80;

    public static final int MALLOC = 1;
    public static final int CALLOC = 2;
    public static final int REALLOC = 3;
    public static final int POSIX_MEMALIGN = 4;
    public static final int ALIGNED_ALLOC = 5;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    public static MallocRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "malloc_record");
        return new MallocRecord(EventHeader.decode(record), record.get(U64, ADDRESS), record.get(U64, BYTES),
                record.get(U64, WEIGHT), record.get(U32, FUNCTION));
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
        public static final long SIZE = 40;
        public static final long NS = 0;
        public static final long BYTES = 8;
        public static final long WEIGHT = 16;
        public static final long USER_STACK = 24;
        public static final long TID = 32;
        public static final long FUNCTION = 36;

        public static Live decode(MemorySegment value) {
            Records.requireSize(value, SIZE, "live_allocation");
            return new Live(value.get(U64, NS), value.get(U64, BYTES), value.get(U64, WEIGHT), value.get(U64, USER_STACK),
                    value.get(U32, TID), value.get(U32, FUNCTION));
        }
    }
}
