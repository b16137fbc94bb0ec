package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.os.NativeFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
    private static final NativeFunction PROCESS_VM_READV = NativeFunction.libc("process_vm_readv");
    private static final int PID = (int) ProcessHandle.current().pid();
    /** Reads up to this size go word by word through SafeFetchN; larger ones are one syscall. */
    private static final int FETCH_MAX = 512;
    /** Heap targets of a syscall read up to this size go through the thread's native buffer; larger ones get their own. */
    private static final int BOUNCE_BYTES = 4096;
    private static final ThreadLocal<Scratch> SCRATCH = new ThreadLocal<>();
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
            Scratch scratch = scratch();
            long[] words = scratch.words;
            int n = (int) ((end - start) >>> 3);
            for (int i = 0; i < n; i++) {
                if (!FETCH.word(start + 8L * i, words, i)) {
                    return false;
                }
            }
            MemorySegment.copy(scratch.wordBytes, address - start, into, 0, into.byteSize());
            return true;
        }
        return readBySyscall(address, into);
    }

    /** {@link #read} through process_vm_readv only. */
    static boolean readBySyscall(long address, MemorySegment into) {
        if (address == 0 || into.byteSize() == 0) {
            return false;
        }
        long size = into.byteSize();
        Arena own = null;
        try {
            Scratch scratch = scratch();
            // the kernel writes into native memory: a heap segment goes through a native buffer
            MemorySegment target = into;
            if (!into.isNative()) {
                if (size <= BOUNCE_BYTES) {
                    target = scratch.bounce();
                } else {
                    own = Arena.ofConfined();
                    target = own.allocate(size, 8);
                }
            }
            MemorySegment iov = scratch.iov(); // local {base, len}, then remote {base, len}
            iov.set(ValueLayout.JAVA_LONG, 0, target.address());
            iov.set(ValueLayout.JAVA_LONG, 8, size);
            iov.set(ValueLayout.JAVA_LONG, 16, address);
            iov.set(ValueLayout.JAVA_LONG, 24, size);
            long n = PROCESS_VM_READV.call(PID, iov.address(), 1, iov.address() + 16, 1, 0);
            if (n != size) {
                return false;
            }
            if (target != into) {
                MemorySegment.copy(target, 0, into, 0, size);
            }
            return true;
        } catch (RuntimeException | LinkageError e) {
            return false;
        } finally {
            if (own != null) {
                own.close();
            }
        }
    }

    private static Scratch scratch() {
        Scratch s = SCRATCH.get();
        if (s == null) {
            s = new Scratch();
            SCRATCH.set(s);
        }
        return s;
    }

    /**
     * What one read needs, kept per thread so that reads allocate nothing: the words SafeFetchN
     * gave, and for the syscall the two iovecs and a native buffer for heap targets (freed with
     * the thread).
     */
    private static final class Scratch {
        final long[] words = new long[FETCH_MAX / 8 + 2];
        final MemorySegment wordBytes = MemorySegment.ofArray(words);
        private MemorySegment iov;
        private MemorySegment bounce;

        MemorySegment iov() {
            if (iov == null) {
                iov = Arena.ofAuto().allocate(32, 8);
            }
            return iov;
        }

        MemorySegment bounce() {
            if (bounce == null) {
                bounce = Arena.ofAuto().allocate(BOUNCE_BYTES, 8);
            }
            return bounce;
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
