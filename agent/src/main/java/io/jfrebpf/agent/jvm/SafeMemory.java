package io.jfrebpf.agent.jvm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Reads of this process's memory that cannot crash the JVM, for pointers we do not own (JVM
 * internals that may change under us): word by word through HotSpot's {@link SafeFetch} where the
 * running libjvm has it (~10 ns a word), else through {@code process_vm_readv} on our own pid,
 * which fails with EFAULT on a bad address where a direct read would be a SIGSEGV (~1 µs a read).
 */
public final class SafeMemory {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle PROCESS_VM_READV = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("process_vm_readv"),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final int PID = (int) ProcessHandle.current().pid();
    /** Reads up to this size go word by word through SafeFetchN; larger ones are one syscall. */
    private static final int FETCH_MAX = 512;
    private static final SafeFetch FETCH = SafeFetch.find().orElse(null);

    private SafeMemory() {
    }

    /** Whether reads go through HotSpot's SafeFetchN (else a syscall each). */
    public static boolean fast() {
        return FETCH != null;
    }

    /** Copies {@code into.byteSize()} bytes from {@code address}; false if any of them is unreadable. */
    public static boolean read(long address, MemorySegment into) {
        if (address == 0 || into.byteSize() == 0) {
            return false;
        }
        if (FETCH != null && into.byteSize() <= FETCH_MAX && address > 0 && address < Long.MAX_VALUE - FETCH_MAX) {
            long start = address & ~7L;
            long end = (address + into.byteSize() + 7) & ~7L;
            long[] words = new long[(int) ((end - start) >>> 3)];
            for (int i = 0; i < words.length; i++) {
                if (!FETCH.word(start + 8L * i, words, i)) {
                    return false;
                }
            }
            MemorySegment.copy(MemorySegment.ofArray(words), address - start, into, 0, into.byteSize());
            return true;
        }
        return readBySyscall(address, into);
    }

    /** {@link #read} through process_vm_readv only. */
    static boolean readBySyscall(long address, MemorySegment into) {
        if (address == 0 || into.byteSize() == 0) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            // the kernel writes into native memory: a heap segment gets a native copy
            MemorySegment target = into.isNative() ? into : arena.allocate(into.byteSize(), 8);
            MemorySegment local = arena.allocate(16, 8);
            local.set(ValueLayout.ADDRESS, 0, target);
            local.set(ValueLayout.JAVA_LONG, 8, into.byteSize());
            MemorySegment remote = arena.allocate(16, 8);
            remote.set(ValueLayout.JAVA_LONG, 0, address);
            remote.set(ValueLayout.JAVA_LONG, 8, into.byteSize());
            long n = (long) PROCESS_VM_READV.invokeExact(PID, local, 1L, remote, 1L, 0L);
            if (n != into.byteSize()) {
                return false;
            }
            if (target != into) {
                MemorySegment.copy(target, 0, into, 0, into.byteSize());
            }
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    /** {@code length} bytes at {@code address} as a little-endian buffer, or null if any is unreadable. */
    public static ByteBuffer bytes(long address, int length) {
        if (length <= 0) {
            return null;
        }
        byte[] b = new byte[length];
        if (!read(address, MemorySegment.ofArray(b))) {
            return null;
        }
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A NUL-terminated string of at most {@code max} bytes at {@code address}, or null if unreadable. */
    public static String cString(long address, int max) {
        StringBuilder b = new StringBuilder();
        for (int chunk = 0; chunk * 64 < max; chunk++) {
            ByteBuffer buf = bytes(address + chunk * 64L, 64);
            if (buf == null) {
                return b.isEmpty() ? null : b.toString();
            }
            for (int i = 0; i < 64 && chunk * 64 + i < max; i++) {
                byte c = buf.get(i);
                if (c == 0) {
                    return b.toString();
                }
                b.append((char) (c & 0xff));
            }
        }
        return b.toString();
    }

    public static OptionalLong readLong(long address) {
        long[] v = new long[1];
        return read(address, MemorySegment.ofArray(v)) ? OptionalLong.of(v[0]) : OptionalLong.empty();
    }

    public static OptionalInt readInt(long address) {
        int[] v = new int[1];
        return read(address, MemorySegment.ofArray(v)) ? OptionalInt.of(v[0]) : OptionalInt.empty();
    }
}
