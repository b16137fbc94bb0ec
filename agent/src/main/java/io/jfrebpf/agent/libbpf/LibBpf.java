package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.Errno;
import io.jfrebpf.agent.os.Native;
import io.jfrebpf.agent.os.NativeFunction;
import io.jfrebpf.agent.os.NativeLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayDeque;

/**
 * The system's libbpf 1.x: its functions (each typed class of this package declares those it
 * calls), the checks of their results, and libbpf's log routed into ours. Package-private: the
 * typed classes are the API.
 */
final class LibBpf {
    private static final NativeLibrary LIBRARY = new NativeLibrary("libbpf.so.1", "install libbpf1", "libbpf.so.1",
            "/usr/lib/x86_64-linux-gnu/libbpf.so.1", "/usr/lib64/libbpf.so.1", "/usr/lib/libbpf.so.1",
            "/lib/x86_64-linux-gnu/libbpf.so.1", "/usr/lib/aarch64-linux-gnu/libbpf.so.1");
    private static final NativeFunction SET_PRINT = function("libbpf_set_print");
    private static final NativeFunction VSNPRINTF = NativeFunction.libc("vsnprintf");
    private static final NativeFunction CLOSE = NativeFunction.libc("close");

    /** The last libbpf warnings of this thread, for the message of a failure. */
    private static final ThreadLocal<ArrayDeque<String>> WARNINGS = new Warnings();
    private static final int KEPT_WARNINGS = 4;
    private static final int LINE_BYTES = 1024;
    private static final int WARNING_BYTES = 64 << 10;

    static {
        installPrint();
    }

    private LibBpf() {
    }

    /**
     * A function of libbpf. Every typed class gets its functions here, so this class (and with it
     * the log callback) is initialized before libbpf's first call.
     */
    static NativeFunction function(String name) {
        return new NativeFunction(LIBRARY, name);
    }

    static int errno() {
        return Native.errno();
    }

    /** A pointer-returning call's result, which is NULL with errno on failure. */
    static long checkedPtr(String what, long pointer) throws BpfException {
        if (pointer == 0) {
            throw failure(what, errno());
        }
        return pointer;
    }

    /** An int-returning call's result, which is a negative error code on failure. */
    static int checkedInt(String what, long result) throws BpfException {
        int rc = (int) result;
        if (rc < 0) {
            throw failure(what, -rc);
        }
        return rc;
    }

    /**
     * The errno of a failed low-level call ({@code bpf_map_*}, {@code bpf_prog_*}): libbpf 1.x
     * returns {@code -errno} and sets errno, older ones -1 and errno.
     */
    static int errnoOf(int rc) {
        return rc < -1 ? -rc : errno();
    }

    static BpfException failure(String what, int errno) {
        ArrayDeque<String> w = WARNINGS.get();
        String libbpf = w.isEmpty() ? "" : " (libbpf: " + String.join(" / ", w) + ")";
        w.clear();
        return new BpfException(what + " failed: " + Errno.name(errno) + libbpf, errno);
    }

    /** Forgets earlier warnings so that a failure message shows only its own. */
    static void clearWarnings() {
        WARNINGS.get().clear();
    }

    /** close(2) of an fd of ours that libbpf does not own: bare links, iterators, perf events, shared maps. */
    static void closeFd(int fd) {
        CLOSE.call(fd);
    }

    static String string(long pointer) {
        return Native.string(pointer);
    }

    // libbpf's log (enum libbpf_print_level): warnings to our debug log and to the next failure
    // message, info only when our debug log is on, debug never. libbpf has no level filter of its
    // own, so each of its lines is one upcall; only the kept ones cost a vsnprintf. Without a
    // callback libbpf would print to the application's stderr.
    private static final int LIBBPF_WARN = 0;
    private static final int LIBBPF_INFO = 1;

    private static void installPrint() {
        try {
            MemorySegment stub = Native.upcall(MethodHandles.lookup().findStatic(LibBpf.class, "print",
                    MethodType.methodType(int.class, long.class, long.class, long.class)), Arena.global());
            SET_PRINT.call(stub.address());
        } catch (Throwable t) {
            Log.debug("cannot route libbpf's log: %s", t);
        }
    }

    /**
     * The upcall: only the level test, so that what the JIT compiles of it for libbpf's hundreds
     * of debug lines per object is a few instructions ({@link #keep} is too big to be inlined;
     * in one method, C1 compiled 120 KB in 70 ms of an idle JVM's start-up).
     */
    @SuppressWarnings("unused") // upcall: int (*)(enum libbpf_print_level, const char *, va_list)
    private static int print(long level, long format, long args) {
        try {
            int l = (int) level;
            if (l == LIBBPF_WARN || l == LIBBPF_INFO && Log.isDebug()) {
                keep(l, format, args);
            }
        } catch (Throwable ignored) {
            // an exception in an upcall kills the JVM
        }
        return 0;
    }

    private static void keep(int l, long format, long args) {
        try {
            try (Arena arena = Arena.ofConfined()) {
                // warnings are rare and may hold a whole verifier log (its reason at the end)
                int bytes = l == LIBBPF_WARN ? WARNING_BYTES : LINE_BYTES;
                MemorySegment buf = arena.allocate(bytes);
                int n = (int) VSNPRINTF.call(buf.address(), bytes, format, args);
                if (n < 0) {
                    return;
                }
                String line = buf.getString(0).strip();
                if (line.isEmpty()) {
                    return;
                }
                if (l == LIBBPF_WARN) {
                    ArrayDeque<String> w = WARNINGS.get();
                    if (w.size() == KEPT_WARNINGS) {
                        w.removeFirst();
                    }
                    // a verifier log comes as one long line whose reason is at its end: keep both ends
                    w.addLast(line.length() > 900 ? line.substring(0, 300) + " ... " + line.substring(line.length() - 600) : line);
                }
                Log.debug("libbpf: %s", line);
            }
        } catch (Throwable ignored) {
            // an exception in an upcall kills the JVM
        }
    }

    private static final class Warnings extends ThreadLocal<ArrayDeque<String>> {
        @Override
        protected ArrayDeque<String> initialValue() {
            return new ArrayDeque<>();
        }
    }
}
