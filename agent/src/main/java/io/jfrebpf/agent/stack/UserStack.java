package io.jfrebpf.agent.stack;

import io.jfrebpf.bpf.StackLayout;
import io.jfrebpf.agent.libbpf.BpfBytes;
import java.lang.foreign.MemorySegment;

/**
 * Mirror of {@code struct user_stack} (bpf/stack.h): the frames of a user stack as the kernel
 * walked them, innermost first. A frame is a pc, or for an interpreted frame its {@code Method*}
 * (in {@code pcs}) and bytecode pointer (in {@code bcps}, 0 for other frames); {@code compileIds}: for
 * a frame of compiled Java code, the compile id of the nmethod the walk found at its pc (-1 for
 * other frames), which the agent's naming must find there too; {@code interrupted}:
 * the frame's pc is where a signal interrupted the thread (any pc, not a return address). {@code resumed}:
 * the native frames under the last Java frame were stale and left out; {@code incomplete}: the
 * walk ended at a frame it could not unwind, or at a caller not above its frame (the stack goes on);
 * {@code continuation}: a virtual thread's frames still in its stack chunk could not be read there
 * and were skipped, the walk went on at its carrier's Continuation.enterSpecial (bpf/stack_chunk.bpf.h):
 * the stack is not whole, and is written truncated.
 */
public record UserStack(long[] pcs, long[] bcps, int[] compileIds, boolean[] interrupted, boolean truncated, boolean resumed, boolean incomplete,
        boolean continuation) {
    public static final long SIZE = StackLayout.UserStack.SIZE;
    public static final long DEPTH = StackLayout.UserStack.DEPTH;
    public static final long FLAGS = StackLayout.UserStack.FLAGS;
    public static final long FRAMES = StackLayout.UserStack.FRAMES;
    public static final long FRAME_SIZE = StackLayout.UserFrame.SIZE;
    public static final long FRAME_PC = StackLayout.UserFrame.PC;
    public static final long FRAME_AUX = StackLayout.UserFrame.AUX;
    public static final int MAX_DEPTH = (int) StackLayout.USER_STACK_MAX_DEPTH;
    public static final int KERNEL_MAX_DEPTH = (int) StackLayout.KERNEL_STACK_MAX_DEPTH;
    public static final int TRUNCATED = (int) StackLayout.USER_STACK_TRUNCATED;
    public static final int RESUMED = (int) StackLayout.USER_STACK_RESUMED;
    public static final int INCOMPLETE = (int) StackLayout.USER_STACK_INCOMPLETE;
    public static final int CONTINUATION = (int) StackLayout.USER_STACK_CONTINUATION;
    public static final long FRAME_INTERPRETED = StackLayout.USER_FRAME_INTERPRETED;
    public static final long FRAME_INTERRUPTED = StackLayout.USER_FRAME_INTERRUPTED;
    public static final long FRAME_NMETHOD = StackLayout.USER_FRAME_NMETHOD;
    public static final long FRAME_COMPILE_ID = StackLayout.USER_FRAME_COMPILE_ID;
    /** {@link #compileIds} of a frame that is not compiled Java code. */
    public static final int NO_COMPILE_ID = -1;

    public static UserStack decode(MemorySegment s) {
        BpfBytes b = BpfBytes.of(s, FRAMES + (long) MAX_DEPTH * FRAME_SIZE);
        int depth = Math.min(MAX_DEPTH, Math.max(0, b.u32(DEPTH)));
        depth = (int) Math.min(depth, Math.max(0, (b.size() - FRAMES) / FRAME_SIZE));
        int flags = b.u32(FLAGS);
        long[] pcs = new long[depth];
        long[] bcps = new long[depth];
        int[] compileIds = new int[depth];
        boolean[] interrupted = new boolean[depth];
        for (int i = 0; i < depth; i++) {
            long base = FRAMES + i * FRAME_SIZE;
            pcs[i] = b.u64(base + FRAME_PC);
            long aux = b.u64(base + FRAME_AUX);
            bcps[i] = (aux & FRAME_INTERPRETED) != 0 ? aux & ~FRAME_INTERPRETED : 0;
            interrupted[i] = (aux & FRAME_INTERPRETED) == 0 && (aux & FRAME_INTERRUPTED) != 0;
            compileIds[i] = (aux & FRAME_INTERPRETED) == 0 && (aux & FRAME_NMETHOD) != 0 ? (int) (aux & FRAME_COMPILE_ID) : NO_COMPILE_ID;
            if ((aux & FRAME_INTERPRETED) != 0 && bcps[i] == 0) {
                bcps[i] = -1; // interpreted, bcp not yet set (method entry)
            }
        }
        return new UserStack(pcs, bcps, compileIds, interrupted, (flags & TRUNCATED) != 0, (flags & RESUMED) != 0, (flags & INCOMPLETE) != 0,
                (flags & CONTINUATION) != 0);
    }

    public int depth() {
        return pcs.length;
    }

    /** Whether frame i is at any pc (the innermost, or where a signal interrupted the thread), not at a return address. */
    public boolean anyPc(int i) {
        return i == 0 || interrupted[i];
    }

    /** Whether frame i is interpreted: pcs[i] is then a Method*. */
    public boolean interpreted(int i) {
        return bcps[i] != 0;
    }
}
