package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.jvm.SafeMemory;
import io.jfrebpf.agent.os.NativeFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.OptionalLong;

/**
 * Where this process's signal handlers return: the signal trampoline the kernel puts on the
 * stack as a handler's return address (glibc's {@code __restore_rt}, which calls rt_sigreturn).
 * A stack walk that meets it knows the frame above is a signal frame, whose saved registers say
 * where the thread was interrupted. glibc installs every handler with it as {@code sa_restorer};
 * the kernel's {@code rt_sigaction} reports it (glibc's {@code sigaction} hides it), and the
 * trampoline is checked by its code ({@code mov rax, 15; syscall}), so nothing is guessed.
 */
public final class SignalReturn {
    /** Variadic, through the shared call shape (os.Native): the number and four arguments. */
    private static final NativeFunction SYSCALL = NativeFunction.libc("syscall");
    private static final int SYS_RT_SIGACTION = 13;
    private static final int SIGSEGV = 11;
    private static final long SA_RESTORER = 0x04000000L;
    /** mov rax, 15 (rt_sigreturn); syscall */
    private static final byte[] TRAMPOLINE = {0x48, (byte) 0xc7, (byte) 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05};

    private SignalReturn() {
    }

    /** The trampoline's address, or empty (the walk then stops at a signal frame). */
    public static OptionalLong find() {
        try {
            try (Arena arena = Arena.ofConfined()) {
                // struct kernel_sigaction on x86-64: handler, flags, restorer, mask
                MemorySegment old = arena.allocate(32, 8);
                // HotSpot handles SIGSEGV in every JVM (implicit null checks, safepoint polls)
                long rc = SYSCALL.call(SYS_RT_SIGACTION, SIGSEGV, 0, old.address(), 8);
                long flags = old.get(ValueLayout.JAVA_LONG, 8);
                long restorer = old.get(ValueLayout.JAVA_LONG, 16);
                if (rc != 0 || (flags & SA_RESTORER) == 0 || restorer == 0) {
                    Log.debug("no signal trampoline: rt_sigaction gave %d, flags 0x%x", rc, flags);
                    return OptionalLong.empty();
                }
                ByteBuffer code = SafeMemory.bytes(restorer, TRAMPOLINE.length);
                for (int i = 0; code != null && i < TRAMPOLINE.length; i++) {
                    if (code.get(i) != TRAMPOLINE[i]) {
                        code = null;
                    }
                }
                if (code == null) {
                    Log.debug("the signal restorer at 0x%x is not rt_sigreturn's trampoline", restorer);
                    return OptionalLong.empty();
                }
                return OptionalLong.of(restorer);
            }
        } catch (Throwable e) {
            Log.debug("no signal trampoline: %s", e);
            return OptionalLong.empty();
        }
    }
}
