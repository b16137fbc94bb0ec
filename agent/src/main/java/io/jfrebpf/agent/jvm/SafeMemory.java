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
 * Reads of this process's memory that cannot crash the JVM: through {@code process_vm_readv} on
 * our own pid, which fails with EFAULT on a bad address where a direct read would be a SIGSEGV.
 * For pointers we do not own (JVM internals that may change under us). About 1 µs a read.
 */
public final class SafeMemory {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle PROCESS_VM_READV = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("process_vm_readv"),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final int PID = (int) ProcessHandle.current().pid();

    private SafeMemory() {
    }

    /** Copies {@code into.byteSize()} bytes from {@code address}; false if any of them is unreadable. */
    public static boolean read(long address, MemorySegment into) {
        if (address == 0 || into.byteSize() == 0) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment local = arena.allocate(16, 8);
            local.set(ValueLayout.ADDRESS, 0, into);
            local.set(ValueLayout.JAVA_LONG, 8, into.byteSize());
            MemorySegment remote = arena.allocate(16, 8);
            remote.set(ValueLayout.JAVA_LONG, 0, address);
            remote.set(ValueLayout.JAVA_LONG, 8, into.byteSize());
            long n = (long) PROCESS_VM_READV.invokeExact(PID, local, 1L, remote, 1L, 0L);
            return n == into.byteSize();
        } catch (Throwable t) {
            return false;
        }
    }

    /** {@code length} bytes at {@code address} as a little-endian buffer, or null if any is unreadable. */
    public static ByteBuffer bytes(long address, int length) {
        if (length <= 0) {
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(length, 8);
            if (!read(address, s)) {
                return null;
            }
            return ByteBuffer.wrap(s.toArray(ValueLayout.JAVA_BYTE)).order(ByteOrder.LITTLE_ENDIAN);
        }
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
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(8, 8);
            return read(address, s) ? OptionalLong.of(s.get(ValueLayout.JAVA_LONG, 0)) : OptionalLong.empty();
        }
    }

    public static OptionalInt readInt(long address) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(4, 4);
            return read(address, s) ? OptionalInt.of(s.get(ValueLayout.JAVA_INT, 0)) : OptionalInt.empty();
        }
    }
}
