package io.jfrebpf.agent.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Holds the calling thread's signals while it runs something the kernel abandons when a signal
 * arrives. The BPF verifier gives up with EAGAIN when a signal is pending, and libbpf retries
 * only a few times: beside a profiler that signals every thread each millisecond
 * (async-profiler's cpu and itimer modes) no program would load. Blocked signals are not
 * "pending" to the verifier; they are delivered when the mask is restored.
 */
public final class SignalMask implements AutoCloseable {
    private static final NativeFunction SIGFILLSET = NativeFunction.libc("sigfillset");
    private static final NativeFunction PTHREAD_SIGMASK = NativeFunction.libc("pthread_sigmask");
    private static final int SIG_BLOCK = 0;
    private static final int SIG_SETMASK = 2;
    /** glibc's sigset_t: 1024 bits. */
    private static final long SIGSET_BYTES = 128;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment previous = arena.allocate(SIGSET_BYTES, 8);
    private final boolean blocked;

    private SignalMask() {
        boolean ok = false;
        try {
            MemorySegment all = arena.allocate(SIGSET_BYTES, 8);
            ok = (int) SIGFILLSET.call(all.address()) == 0
                    && (int) PTHREAD_SIGMASK.call(SIG_BLOCK, all.address(), previous.address()) == 0;
        } catch (RuntimeException | LinkageError e) {
            ok = false;
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
                PTHREAD_SIGMASK.call(SIG_SETMASK, previous.address(), 0);
            }
        } catch (RuntimeException | LinkageError e) {
            // nothing more to do: the mask stays as it was set
        } finally {
            arena.close();
        }
    }
}
