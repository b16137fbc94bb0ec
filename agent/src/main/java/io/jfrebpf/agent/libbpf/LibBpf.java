package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.Errno;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The downcalls into the system's libbpf 1.x, each capturing errno, and libbpf's own log routed
 * into ours. Package-private: the typed classes of this package are the API.
 */
final class LibBpf {
    static final Linker LINKER = Linker.nativeLinker();
    static final AddressLayout PTR = ValueLayout.ADDRESS;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfBoolean BOOL = ValueLayout.JAVA_BOOLEAN;

    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MemoryLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> STATE_SEGMENT =
            ThreadLocal.withInitial(() -> Arena.global().allocate(STATE));
    /** The last libbpf warnings of this thread, for the message of a failure. */
    private static final ThreadLocal<ArrayDeque<String>> WARNINGS = ThreadLocal.withInitial(ArrayDeque::new);
    private static final int KEPT_WARNINGS = 4;

    static final SymbolLookup LOOKUP = lookup();

    // objects
    static final MethodHandle OBJECT_OPEN_MEM = fn("bpf_object__open_mem", PTR, PTR, LONG, PTR);
    static final MethodHandle OBJECT_LOAD = fn("bpf_object__load", INT, PTR);
    static final MethodHandle OBJECT_CLOSE = fn("bpf_object__close", null, PTR);
    static final MethodHandle OBJECT_FIND_PROGRAM = fn("bpf_object__find_program_by_name", PTR, PTR, PTR);
    static final MethodHandle OBJECT_NEXT_PROGRAM = fn("bpf_object__next_program", PTR, PTR, PTR);
    static final MethodHandle OBJECT_FIND_MAP = fn("bpf_object__find_map_by_name", PTR, PTR, PTR);
    static final MethodHandle OBJECT_NEXT_MAP = fn("bpf_object__next_map", PTR, PTR, PTR);
    static final MethodHandle OBJECT_BTF = fn("bpf_object__btf", PTR, PTR);
    static final MethodHandle BTF_FIND_BY_NAME_KIND = fn("btf__find_by_name_kind", INT, PTR, PTR, INT);
    static final MethodHandle BTF_TYPE_BY_ID = fn("btf__type_by_id", PTR, PTR, INT);
    static final MethodHandle BTF_NAME_BY_OFFSET = fn("btf__name_by_offset", PTR, PTR, INT);
    // programs
    static final MethodHandle PROGRAM_NAME = fn("bpf_program__name", PTR, PTR);
    static final MethodHandle PROGRAM_SECTION = fn("bpf_program__section_name", PTR, PTR);
    static final MethodHandle PROGRAM_SET_AUTOLOAD = fn("bpf_program__set_autoload", INT, PTR, BOOL);
    static final MethodHandle PROGRAM_FD = fn("bpf_program__fd", INT, PTR);
    static final MethodHandle PROGRAM_SET_EXPECTED_ATTACH_TYPE = fn("bpf_program__set_expected_attach_type", INT, PTR, INT);
    static final MethodHandle PROGRAM_ATTACH = fn("bpf_program__attach", PTR, PTR);
    static final MethodHandle PROGRAM_ATTACH_UPROBE = fn("bpf_program__attach_uprobe", PTR, PTR, BOOL, INT, PTR, LONG);
    static final MethodHandle PROGRAM_ATTACH_UPROBE_OPTS = fn("bpf_program__attach_uprobe_opts", PTR, PTR, INT, PTR, LONG, PTR);
    static final MethodHandle PROGRAM_ATTACH_PERF_EVENT = fn("bpf_program__attach_perf_event", PTR, PTR, INT);
    static final MethodHandle PROGRAM_ATTACH_USDT = fn("bpf_program__attach_usdt", PTR, PTR, INT, PTR, PTR, PTR, PTR);
    static final MethodHandle OBJ_GET_INFO_BY_FD = fn("bpf_obj_get_info_by_fd", INT, INT, PTR, PTR);
    static final MethodHandle PROG_TEST_RUN = fn("bpf_prog_test_run_opts", INT, INT, PTR);
    static final MethodHandle PROGRAM_ATTACH_ITER = fn("bpf_program__attach_iter", PTR, PTR, PTR);
    static final MethodHandle ITER_CREATE = fn("bpf_iter_create", INT, INT);
    static final MethodHandle LINK_FD = fn("bpf_link__fd", INT, PTR);
    static final MethodHandle LINK_DESTROY = fn("bpf_link__destroy", INT, PTR);
    // maps
    static final MethodHandle MAP_NAME = fn("bpf_map__name", PTR, PTR);
    static final MethodHandle MAP_FD = fn("bpf_map__fd", INT, PTR);
    static final MethodHandle MAP_TYPE = fn("bpf_map__type", INT, PTR);
    static final MethodHandle MAP_KEY_SIZE = fn("bpf_map__key_size", INT, PTR);
    static final MethodHandle MAP_VALUE_SIZE = fn("bpf_map__value_size", INT, PTR);
    static final MethodHandle MAP_MAX_ENTRIES = fn("bpf_map__max_entries", INT, PTR);
    static final MethodHandle MAP_SET_MAX_ENTRIES = fn("bpf_map__set_max_entries", INT, PTR, INT);
    static final MethodHandle MAP_INITIAL_VALUE = fn("bpf_map__initial_value", PTR, PTR, PTR);
    static final MethodHandle MAP_LOOKUP_ELEM = fn("bpf_map_lookup_elem", INT, INT, PTR, PTR);
    static final MethodHandle MAP_GET_NEXT_KEY = fn("bpf_map_get_next_key", INT, INT, PTR, PTR);
    static final MethodHandle MAP_UPDATE_ELEM = fn("bpf_map_update_elem", INT, INT, PTR, PTR, LONG);
    static final MethodHandle MAP_DELETE_ELEM = fn("bpf_map_delete_elem", INT, INT, PTR);
    static final MethodHandle NUM_POSSIBLE_CPUS = fn("libbpf_num_possible_cpus", INT);
    static final MethodHandle MAP_REUSE_FD = fn("bpf_map__reuse_fd", INT, PTR, INT);
    // libc: the fds of maps shared between objects
    static final MethodHandle DUP = libc("dup", INT, INT);
    static final MethodHandle CLOSE = libc("close", INT, INT);
    static final MethodHandle READ = libc("read", LONG, INT, PTR, LONG);
    /** syscall(SYS_bpf, cmd, attr, size): for the link types this libbpf (1.1) has no API for. */
    static final MethodHandle SYSCALL_BPF = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("syscall"),
            FunctionDescriptor.of(LONG, LONG, INT, PTR, INT), ERRNO, Linker.Option.firstVariadicArg(1));
    static final long SYS_BPF = "aarch64".equals(System.getProperty("os.arch")) ? 280 : 321;
    // ring buffers
    static final MethodHandle RING_BUFFER_NEW = fn("ring_buffer__new", PTR, INT, PTR, PTR, PTR);
    static final MethodHandle RING_BUFFER_ADD = fn("ring_buffer__add", INT, PTR, INT, PTR, PTR);
    static final MethodHandle RING_BUFFER_POLL = fn("ring_buffer__poll", INT, PTR, INT);
    static final MethodHandle RING_BUFFER_CONSUME = fn("ring_buffer__consume", INT, PTR);
    static final MethodHandle RING_BUFFER_FREE = fn("ring_buffer__free", null, PTR);

    private static final MethodHandle VSNPRINTF = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("vsnprintf"),
            FunctionDescriptor.of(INT, PTR, LONG, PTR, PTR));
    private static final MethodHandle SET_PRINT = LINKER.downcallHandle(LOOKUP.findOrThrow("libbpf_set_print"),
            FunctionDescriptor.of(PTR, PTR));

    static {
        installPrint();
    }

    private LibBpf() {
    }

    private static SymbolLookup lookup() {
        List<String> candidates = new ArrayList<>(List.of("libbpf.so.1"));
        for (String dir : List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu")) {
            Path p = Path.of(dir, "libbpf.so.1");
            if (Files.exists(p)) {
                candidates.add(p.toString());
            }
        }
        IllegalArgumentException last = null;
        for (String c : candidates) {
            try {
                return SymbolLookup.libraryLookup(c, Arena.global());
            } catch (IllegalArgumentException e) {
                last = e;
            }
        }
        throw new UnsatisfiedLinkError("libbpf.so.1 not found (install libbpf1): " + (last == null ? "" : last.getMessage()));
    }

    /** A downcall that captures errno: the handle takes the capture segment first. */
    private static MethodHandle fn(String name, MemoryLayout result, MemoryLayout... args) {
        FunctionDescriptor d = result == null ? FunctionDescriptor.ofVoid(args) : FunctionDescriptor.of(result, args);
        return LINKER.downcallHandle(LOOKUP.findOrThrow(name), d, ERRNO);
    }

    private static MethodHandle libc(String name, MemoryLayout result, MemoryLayout... args) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), FunctionDescriptor.of(result, args), ERRNO);
    }

    /** The capture segment of this thread, to pass as the first argument. */
    static MemorySegment state() {
        return STATE_SEGMENT.get();
    }

    static int errno() {
        return (int) ERRNO_HANDLE.get(STATE_SEGMENT.get(), 0L);
    }

    /** Invokes a downcall with this thread's errno capture; wraps Throwable (never expected) as an Error. */
    static Object call(MethodHandle h, Object... args) {
        Object[] all = new Object[args.length + 1];
        all[0] = state();
        System.arraycopy(args, 0, all, 1, args.length);
        try {
            return h.invokeWithArguments(all);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** bpf_map_lookup_elem without the varargs call path: the symbolizer's stack lookups are hot. */
    static int mapLookup(int fd, MemorySegment key, MemorySegment value) {
        try {
            return (int) MAP_LOOKUP_ELEM.invokeExact(state(), fd, key, value);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** ring_buffer__poll, every few milliseconds: no varargs call path. */
    static int ringBufferPoll(MemorySegment ring, int timeoutMillis) {
        try {
            return (int) RING_BUFFER_POLL.invokeExact(state(), ring, timeoutMillis);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** ring_buffer__consume, after every poll. */
    static int ringBufferConsume(MemorySegment ring) {
        try {
            return (int) RING_BUFFER_CONSUME.invokeExact(state(), ring);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A map lookup by fd: true when found, false when the key is absent, else the failure. */
    static boolean lookup(java.util.function.Supplier<String> what, int fd, MemorySegment key, MemorySegment value)
            throws BpfException {
        int rc = mapLookup(fd, key, value);
        if (rc == 0) {
            return true;
        }
        int errno = errno();
        if (errno == Errno.ENOENT || rc == -Errno.ENOENT) {
            return false;
        }
        throw failure("bpf_map_lookup_elem(" + what.get() + ")", rc < -1 ? -rc : errno);
    }

    static MemorySegment callPtr(MethodHandle h, Object... args) {
        return (MemorySegment) call(h, args);
    }

    static int callInt(MethodHandle h, Object... args) {
        return (int) call(h, args);
    }

    /** A pointer-returning call that fails with NULL and errno. */
    static MemorySegment checkedPtr(String what, MethodHandle h, Object... args) throws BpfException {
        MemorySegment p = callPtr(h, args);
        if (p.address() == 0) {
            throw failure(what, errno());
        }
        return p;
    }

    /** An int-returning call that fails with a negative error code. */
    static int checkedInt(String what, MethodHandle h, Object... args) throws BpfException {
        int rc = callInt(h, args);
        if (rc < 0) {
            throw failure(what, -rc);
        }
        return rc;
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

    static String string(MemorySegment p) {
        return p.address() == 0 ? null : p.reinterpret(4096).getString(0);
    }

    // libbpf's log: warnings to our debug log and to the next failure message; info and debug dropped
    private static final int LIBBPF_WARN = 0;
    private static final int LIBBPF_INFO = 1;

    private static void installPrint() {
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(LibBpf.class, "print",
                    MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment stub = LINKER.upcallStub(target, FunctionDescriptor.of(INT, INT, PTR, PTR), Arena.global());
            MemorySegment unused = (MemorySegment) SET_PRINT.invokeExact(stub);
        } catch (Throwable t) {
            Log.debug("cannot route libbpf's log: %s", t);
        }
    }

    @SuppressWarnings("unused") // upcall
    private static int print(int level, MemorySegment format, MemorySegment args) {
        try {
            if (level > LIBBPF_INFO || (level == LIBBPF_INFO && !Log.isDebug())) {
                return 0;
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(1024);
                int n = (int) VSNPRINTF.invokeExact(buf, 1024L, format, args);
                if (n < 0) {
                    return 0;
                }
                String line = buf.getString(0).strip();
                if (line.isEmpty()) {
                    return 0;
                }
                if (level == LIBBPF_WARN) {
                    ArrayDeque<String> w = WARNINGS.get();
                    if (w.size() == KEPT_WARNINGS) {
                        w.removeFirst();
                    }
                    w.addLast(line.length() > 300 ? line.substring(0, 300) + "..." : line);
                }
                Log.debug("libbpf: %s", line);
            }
        } catch (Throwable ignored) {
            // an exception in an upcall kills the JVM
        }
        return 0;
    }
}
