package io.jfrebpf.agent.os;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The few call shapes every native call of the agent goes through: each downcall or upcall
 * shape costs the JVM a set of spun classes and JIT work, each function bound to a shape of its
 * own costs that again, so there are three.
 *
 * <ul>
 * <li>{@link #call}: {@code long f(long, long, long, long, long, long)} with errno captured into
 * a segment of the calling thread, the function's address an argument. On x86-64 (System V) and
 * AArch64 (AAPCS64) integer and pointer arguments travel in the same six/eight registers whatever
 * their C type, so an {@code int}, {@code bool}, {@code size_t} or pointer passed as a
 * {@code long} reaches the callee as its own type, and trailing zeros are registers it never
 * reads. An {@code int} result leaves the upper half of the register undefined: callers take
 * {@code (int) r} (a {@code long} does not convert to an {@code int} without that cast, so the
 * compiler asks). Variadic functions whose callee ignores the vector-register count (AL on
 * x86-64), as glibc's {@code syscall(2)} does (hand-written: it shifts the registers and traps),
 * go through this shape too; AAPCS64 on Linux passes variadic arguments as fixed ones.</li>
 * <li>{@link #callCritical}: {@code long f(long, long)}, no errno, no thread-state transition:
 * for HotSpot's SafeFetchN, a load and a return, called per word.</li>
 * <li>{@link #upcall}: {@code int f(long, long, long)} for libbpf's log callback (the
 * ring buffers are read in place, without a callback per record); an {@code int} argument
 * arrives with undefined upper bits.</li>
 * </ul>
 */
public final class Native {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET = STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    /** (MemorySegment function, MemorySegment errno state, long a0..a5) long. */
    private static final MethodHandle CALL = LINKER.downcallHandle(FunctionDescriptor.of(LONG, LONG, LONG, LONG, LONG,
            LONG, LONG), Linker.Option.captureCallState("errno"));
    private static final FunctionDescriptor CALLBACK = FunctionDescriptor.of(ValueLayout.JAVA_INT, LONG, LONG, LONG);
    private static final ThreadLocal<MemorySegment> CALL_STATE = new CallState();
    /** All of the address space: a record or string at an address is a slice of it, with no restricted call each time. */
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Native() {
    }

    /** The generic downcall; a failure here is a bug of the caller (a NULL or heap function segment). */
    static long call(MemorySegment function, long a0, long a1, long a2, long a3, long a4, long a5) {
        try {
            return (long) CALL.invokeExact(function, CALL_STATE.get(), a0, a1, a2, a3, a4, a5);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * errno as the calling thread's last {@link NativeFunction} call left it: meaningful only when
     * that call reported a failure (libbpf's own calls restore errno around their log callback).
     */
    public static int errno() {
        return CALL_STATE.get().get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
    }

    /**
     * {@code long f(long, long)} as a critical function: no errno, no safepoint, no transition out
     * of Java. Only for code that cannot block, call back, or take long (HotSpot's SafeFetchN).
     */
    public static long callCritical(MemorySegment function, long a0, long a1) {
        try {
            return (long) Critical.CALL.invokeExact(function, a0, a1);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * A native function pointer that calls {@code target}, of type {@code (long, long, long)int},
     * until {@code arena} closes. The target must catch everything: an exception leaving an
     * upcall kills the JVM.
     */
    public static MemorySegment upcall(MethodHandle target, Arena arena) {
        return LINKER.upcallStub(target, CALLBACK, arena);
    }

    /**
     * The address of a native segment, to pass as a pointer argument; the caller keeps its memory
     * alive during the call (an arena closed after it, or a segment it still references). A heap
     * segment has no address native code may use: that is a bug, thrown here rather than a crash.
     */
    public static long address(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("a heap segment passed to native code");
        }
        return segment.address();
    }

    /** {@code size} bytes at a native address (valid as long as the memory is). */
    public static MemorySegment segment(long address, long size) {
        return EVERYTHING.asSlice(address, size);
    }

    /** The NUL-terminated UTF-8 string at a native address; null for NULL. */
    public static String string(long address) {
        return address == 0 ? null : EVERYTHING.getString(address);
    }

    /** The errno capture segment of each thread, freed with it. */
    private static final class CallState extends ThreadLocal<MemorySegment> {
        @Override
        protected MemorySegment initialValue() {
            return Arena.ofAuto().allocate(STATE);
        }
    }

    /** Made on the first critical call only (a JVM without SafeFetchN never makes it). */
    private static final class Critical {
        static final MethodHandle CALL = LINKER.downcallHandle(FunctionDescriptor.of(LONG, LONG, LONG),
                Linker.Option.critical(false));
    }
}
