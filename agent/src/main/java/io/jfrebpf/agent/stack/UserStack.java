package io.jfrebpf.agent.stack;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Mirror of {@code struct user_stack} (bpf/stack.h): the frames of a user stack as the kernel
 * walked them, innermost first. A frame is a pc, or for an interpreted frame its {@code Method*}
 * (in {@code pcs}) and bytecode pointer (in {@code bcps}, 0 for other frames). {@code resumed}:
 * the native frames under the last Java frame were stale and left out (bpf/stack.bpf.h).
 */
public record UserStack(long[] pcs, long[] bcps, boolean truncated, boolean resumed) {
    public static final long SIZE = 8 + 16L * 128;
    public static final long DEPTH = 0;
    public static final long FLAGS = 4;
    public static final long FRAMES = 8;
    public static final long FRAME_SIZE = 16;
    public static final long FRAME_PC = 0;
    public static final long FRAME_AUX = 8;
    public static final int MAX_DEPTH = 128;
    public static final int KERNEL_MAX_DEPTH = 127;
    public static final int TRUNCATED = 1;
    public static final int RESUMED = 2;
    public static final long FRAME_INTERPRETED = 1L << 63;

    public static UserStack decode(MemorySegment s) {
        int depth = Math.min(MAX_DEPTH, Math.max(0, s.get(ValueLayout.JAVA_INT_UNALIGNED, DEPTH)));
        int flags = s.get(ValueLayout.JAVA_INT_UNALIGNED, FLAGS);
        long[] pcs = new long[depth];
        long[] bcps = new long[depth];
        for (int i = 0; i < depth; i++) {
            long base = FRAMES + i * FRAME_SIZE;
            pcs[i] = s.get(ValueLayout.JAVA_LONG_UNALIGNED, base + FRAME_PC);
            long aux = s.get(ValueLayout.JAVA_LONG_UNALIGNED, base + FRAME_AUX);
            bcps[i] = (aux & FRAME_INTERPRETED) != 0 ? aux & ~FRAME_INTERPRETED : 0;
            if ((aux & FRAME_INTERPRETED) != 0 && bcps[i] == 0) {
                bcps[i] = -1; // interpreted, bcp not yet set (method entry)
            }
        }
        return new UserStack(pcs, bcps, (flags & TRUNCATED) != 0, (flags & RESUMED) != 0);
    }

    public int depth() {
        return pcs.length;
    }

    /** Whether frame i is interpreted: pcs[i] is then a Method*. */
    public boolean interpreted(int i) {
        return bcps[i] != 0;
    }
}
