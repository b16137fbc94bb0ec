package io.jfrebpf.agent.os;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Holds the calling thread's signals while it runs something the kernel abandons when a signal
 * arrives. The BPF verifier gives up with EAGAIN when a signal is pending, and libbpf retries
 * only a few times: beside a profiler that signals every thread each millisecond
 * (async-profiler's cpu and itimer modes) no program would load. Blocked signals are not
 * "pending" to the verifier; they are delivered when the mask is restored.
 */
public final class SignalMask implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SIGFILLSET = find("sigfillset", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle PTHREAD_SIGMASK = find("pthread_sigmask",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final int SIG_BLOCK = 0;
    private static final int SIG_SETMASK = 2;
    /** glibc's sigset_t: 1024 bits. */
    private static final long SIGSET_BYTES = 128;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment previous = arena.allocate(SIGSET_BYTES, 8);
    private final boolean blocked;

    private SignalMask() {
        boolean ok = false;
        if (SIGFILLSET != null && PTHREAD_SIGMASK != null) {
            try {
                MemorySegment all = arena.allocate(SIGSET_BYTES, 8);
                ok = (int) SIGFILLSET.invokeExact(all) == 0
                        && (int) PTHREAD_SIGMASK.invokeExact(SIG_BLOCK, all, previous) == 0;
            } catch (Throwable t) {
                ok = false;
            }
        }
        blocked = ok;
    }

    /** Blocks every signal of the calling thread until {@link #close()} (a no-op where libc lacks the calls). */
    public static SignalMask blockAll() {
        return new SignalMask();
    }

    @Override
    public void close() {
        try {
            if (blocked) {
                int rc = (int) PTHREAD_SIGMASK.invokeExact(SIG_SETMASK, previous, MemorySegment.NULL);
            }
        } catch (Throwable t) {
            // nothing more to do: the mask stays as it was set
        } finally {
            arena.close();
        }
    }

    private static MethodHandle find(String name, FunctionDescriptor descriptor) {
        return LINKER.defaultLookup().find(name).map(a -> LINKER.downcallHandle(a, descriptor)).orElse(null);
    }
}
