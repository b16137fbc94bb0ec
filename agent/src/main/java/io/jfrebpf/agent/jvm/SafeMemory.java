package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.os.NativeFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Reads of this process's memory that cannot crash the JVM, for pointers we do not own (JVM
 * internals that may change under us): word by word through HotSpot's {@link SafeFetch} where the
 * running libjvm has it (~10 ns a word), else through {@code process_vm_readv} on our own pid,
 * which fails with EFAULT on a bad address where a direct read would be a SIGSEGV (~1 µs a read).
 *
 * <p>The reads are few small static methods on primitives and {@code byte[]}, and allocate
 * nothing: they run for every frame the symbolizer names, and a hot path that sees one type
 * everywhere is compiled once, small (a word is one call of SafeFetchN).
 */
public final class SafeMemory {
    private static final NativeFunction PROCESS_VM_READV = NativeFunction.libc("process_vm_readv");
    private static final int PID = (int) ProcessHandle.current().pid();
    /** Reads up to this size go word by word through SafeFetchN; larger ones are one syscall. */
    private static final int FETCH_MAX = 512;
    /** A syscall read goes through the thread's native buffer of this size, in as many pieces as it takes. */
    private static final int BOUNCE_BYTES = 4096;
    private static final ThreadLocal<Scratch> SCRATCH = new ThreadLocal<>();
    private static final SafeFetch FETCH = SafeFetch.find().orElse(null);
    /**
     * Two error values for SafeFetchN: a fault returns the one asked for, so a word read as
     * FAULT_A is unreadable only if asking again with FAULT_B gives FAULT_B (a second call only
     * for a word that really holds FAULT_A, or a fault). FAULT_A is package-private for the test.
     */
    static final long FAULT_A = 0x5afe_fe7c_4a11_0001L;
    private static final long FAULT_B = 0x5afe_fe7c_4a11_0002L;

    private SafeMemory() {
    }

    /** Whether reads go through HotSpot's SafeFetchN (else a syscall each). */
    public static boolean fast() {
        return FETCH != null;
    }

    /** The 8 bytes at {@code address} as a little-endian long, or {@code orElse} if any of them is unreadable. */
    public static long readLong(long address, long orElse) {
        if (FETCH == null || !fetchable(address, 8)) {
            return wordBySyscall(address, 8, orElse);
        }
        long aligned = address & ~7L;
        if (aligned == address) {
            return FETCH.word(address, orElse); // a fault gives orElse: no need to tell it from the value
        }
        return straddling(aligned, (int) (address - aligned) << 3, orElse);
    }

    /** The 4 bytes at {@code address} as a little-endian int, or {@code orElse} if any of them is unreadable. */
    public static int readInt(long address, int orElse) {
        if (FETCH == null || !fetchable(address, 4)) {
            return (int) wordBySyscall(address, 4, orElse);
        }
        long aligned = address & ~7L;
        int shift = (int) (address - aligned) << 3;
        if (shift > 32) {
            return (int) straddling(aligned, shift, orElse);
        }
        long w = FETCH.word(aligned, FAULT_A);
        return unreadable(aligned, w) ? orElse : (int) (w >>> shift);
    }

    /**
     * Copies {@code length} bytes from {@code address} into {@code into} at {@code offset}; false
     * if any of them is unreadable (then what {@code into} holds there is unspecified).
     */
    public static boolean read(long address, byte[] into, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, into.length);
        if (length == 0) {
            return false;
        }
        if (FETCH == null || length > FETCH_MAX || !fetchable(address, length)) {
            return readBySyscall(address, into, offset, length);
        }
        long end = address + length;
        int limit = offset + length;
        long word = address & ~7L;
        int at = offset - (int) (address - word); // where the word's first byte goes; below offset for the first
        for (; word < end; word += 8, at += 8) {
            long w = FETCH.word(word, FAULT_A);
            if (unreadable(word, w)) {
                return false;
            }
            if (at >= offset && at + 8 <= limit) {
                into[at] = (byte) w;
                into[at + 1] = (byte) (w >>> 8);
                into[at + 2] = (byte) (w >>> 16);
                into[at + 3] = (byte) (w >>> 24);
                into[at + 4] = (byte) (w >>> 32);
                into[at + 5] = (byte) (w >>> 40);
                into[at + 6] = (byte) (w >>> 48);
                into[at + 7] = (byte) (w >>> 56);
            } else {
                for (int i = Math.max(at, offset), n = Math.min(at + 8, limit); i < n; i++) {
                    into[i] = (byte) (w >>> ((i - at) << 3));
                }
            }
        }
        return true;
    }

    /** {@code length} bytes at {@code address} as a little-endian buffer, or null if any is unreadable. */
    public static ByteBuffer bytes(long address, int length) {
        if (length <= 0) {
            return null;
        }
        byte[] b = new byte[length];
        if (!read(address, b, 0, length)) {
            return null;
        }
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A NUL-terminated string of at most {@code max} bytes at {@code address}, or null if unreadable. */
    public static String cString(long address, int max) {
        StringBuilder b = new StringBuilder();
        byte[] chunk = new byte[64];
        for (int start = 0; start < max; start += chunk.length) {
            if (!read(address + start, chunk, 0, chunk.length)) {
                return b.isEmpty() ? null : b.toString();
            }
            for (int i = 0; i < chunk.length && start + i < max; i++) {
                byte c = chunk[i];
                if (c == 0) {
                    return b.toString();
                }
                b.append((char) (c & 0xff));
            }
        }
        return b.toString();
    }

    /** Whether SafeFetchN may be asked for the words of {@code [address, address + length)}: no null page, no wrap. */
    private static boolean fetchable(long address, int length) {
        return address > 0 && address < Long.MAX_VALUE - FETCH_MAX - length;
    }

    /** Whether the aligned word that SafeFetchN gave as {@code w} (asked with FAULT_A) is unreadable. */
    private static boolean unreadable(long aligned, long w) {
        return w == FAULT_A && FETCH.word(aligned, FAULT_B) == FAULT_B;
    }

    /** The 8 bytes {@code shift / 8} (1..7) bytes past {@code aligned}, from the two words there; orElse if either is unreadable. */
    private static long straddling(long aligned, int shift, long orElse) {
        long low = FETCH.word(aligned, FAULT_A);
        long high = FETCH.word(aligned + 8, FAULT_A);
        if (unreadable(aligned, low) || unreadable(aligned + 8, high)) {
            return orElse;
        }
        return low >>> shift | high << (64 - shift);
    }

    /** {@code size} (4 or 8) bytes at {@code address} as a little-endian number through process_vm_readv, or orElse. */
    static long wordBySyscall(long address, int size, long orElse) {
        Scratch scratch = scratch();
        MemorySegment bounce = scratch.bounce();
        if (!syscall(scratch, address, bounce.address(), size)) {
            return orElse;
        }
        return size == 8 ? bounce.get(ValueLayout.JAVA_LONG, 0) : bounce.get(ValueLayout.JAVA_INT, 0);
    }

    /** {@link #read} through process_vm_readv only: through the thread's native buffer, a piece at a time. */
    static boolean readBySyscall(long address, byte[] into, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, into.length);
        if (length == 0) {
            return false;
        }
        Scratch scratch = scratch();
        MemorySegment bounce = scratch.bounce();
        for (int done = 0; done < length; done += BOUNCE_BYTES) {
            int n = Math.min(BOUNCE_BYTES, length - done);
            if (!syscall(scratch, address + done, bounce.address(), n)) {
                return false;
            }
            MemorySegment.copy(bounce, ValueLayout.JAVA_BYTE, 0, into, offset + done, n);
        }
        return true;
    }

    /** One process_vm_readv of {@code size} bytes from {@code address} to native {@code target}; false unless all were read. */
    private static boolean syscall(Scratch scratch, long address, long target, int size) {
        if (address == 0) {
            return false;
        }
        try {
            MemorySegment iov = scratch.iov(); // local {base, len}, then remote {base, len}
            iov.set(ValueLayout.JAVA_LONG, 0, target);
            iov.set(ValueLayout.JAVA_LONG, 8, size);
            iov.set(ValueLayout.JAVA_LONG, 16, address);
            iov.set(ValueLayout.JAVA_LONG, 24, size);
            return PROCESS_VM_READV.call(PID, iov.address(), 1, iov.address() + 16, 1, 0) == size;
        } catch (RuntimeException | LinkageError e) {
            return false;
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
     * What a syscall read needs, kept per thread so that reads allocate nothing: the two iovecs
     * and a native buffer the kernel writes into (freed with the thread).
     */
    private static final class Scratch {
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
}
