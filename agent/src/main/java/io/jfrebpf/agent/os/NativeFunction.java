package io.jfrebpf.agent.os;

import java.lang.foreign.MemorySegment;

/**
 * One C function of a {@link NativeLibrary}, called through {@link Native}'s generic shape:
 * arguments as {@code long}s (a pointer as its address, {@link Native#address}: the caller keeps
 * the memory alive during the call; an {@code int} or {@code bool} widened),
 * the result as a {@code long} (truncate an {@code int} result: {@code (int) r}), errno captured
 * per call and thread ({@link Native#errno()}). The symbol is looked up at the first call, so a
 * function the run never calls is never resolved; a missing one throws
 * {@link UnsatisfiedLinkError} at that call. No allocation per call.
 */
public final class NativeFunction {
    private final NativeLibrary library;
    private final String name;
    /** Resolved at the first call; a racing second lookup finds the same address. */
    private MemorySegment address;

    public NativeFunction(NativeLibrary library, String name) {
        this.library = library;
        this.name = name;
    }

    /** A function of libc. */
    public static NativeFunction libc(String name) {
        return new NativeFunction(NativeLibrary.LIBC, name);
    }

    public String name() {
        return name;
    }

    /** Whether the library has the symbol (resolves it). */
    public boolean exists() {
        try {
            address();
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    private MemorySegment address() {
        MemorySegment a = address;
        if (a == null) {
            a = library.find(name);
            address = a;
        }
        return a;
    }

    public long call() {
        return Native.call(address(), 0, 0, 0, 0, 0, 0);
    }

    public long call(long a0) {
        return Native.call(address(), a0, 0, 0, 0, 0, 0);
    }

    public long call(long a0, long a1) {
        return Native.call(address(), a0, a1, 0, 0, 0, 0);
    }

    public long call(long a0, long a1, long a2) {
        return Native.call(address(), a0, a1, a2, 0, 0, 0);
    }

    public long call(long a0, long a1, long a2, long a3) {
        return Native.call(address(), a0, a1, a2, a3, 0, 0);
    }

    public long call(long a0, long a1, long a2, long a3, long a4) {
        return Native.call(address(), a0, a1, a2, a3, a4, 0);
    }

    public long call(long a0, long a1, long a2, long a3, long a4, long a5) {
        return Native.call(address(), a0, a1, a2, a3, a4, a5);
    }

    @Override
    public String toString() {
        return name;
    }
}
