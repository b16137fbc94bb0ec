package io.jfrebpf.agent.libbpf;

import io.jfrebpf.bpf.CommonLayout;
import io.jfrebpf.agent.os.Errno;
import io.jfrebpf.agent.os.NativeFunction;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** One program of a {@link BpfObject}; attaching returns a {@link BpfLink} that detaches on close. */
public final class BpfProgram {
    /** libbpf 1.1 sizeof(struct bpf_test_run_opts); retval at 56. */
    static final long TEST_RUN_OPTS_SIZE = 80;
    /** offsetof(struct bpf_prog_info, recursion_misses) in the kernel's uapi (Linux 5.12+; LayoutTest checks it). */
    public static final long RECURSION_MISSES_OFFSET = CommonLayout.BPF_PROG_INFO_RECURSION_MISSES;

    private static final NativeFunction NAME = LibBpf.function("bpf_program__name");
    private static final NativeFunction SECTION_NAME = LibBpf.function("bpf_program__section_name");
    private static final NativeFunction SET_AUTOLOAD = LibBpf.function("bpf_program__set_autoload");
    private static final NativeFunction FD = LibBpf.function("bpf_program__fd");
    private static final NativeFunction SET_EXPECTED_ATTACH_TYPE = LibBpf.function("bpf_program__set_expected_attach_type");
    private static final NativeFunction ATTACH = LibBpf.function("bpf_program__attach");
    private static final NativeFunction ATTACH_UPROBE = LibBpf.function("bpf_program__attach_uprobe");
    private static final NativeFunction ATTACH_UPROBE_OPTS = LibBpf.function("bpf_program__attach_uprobe_opts");
    private static final NativeFunction ATTACH_PERF_EVENT = LibBpf.function("bpf_program__attach_perf_event");
    private static final NativeFunction ATTACH_USDT = LibBpf.function("bpf_program__attach_usdt");
    private static final NativeFunction ATTACH_ITER = LibBpf.function("bpf_program__attach_iter");
    private static final NativeFunction OBJ_GET_INFO_BY_FD = LibBpf.function("bpf_obj_get_info_by_fd");
    private static final NativeFunction PROG_TEST_RUN = LibBpf.function("bpf_prog_test_run_opts");
    private static final NativeFunction ITER_CREATE = LibBpf.function("bpf_iter_create");
    private static final NativeFunction READ = NativeFunction.libc("read");
    /**
     * syscall(SYS_bpf, cmd, attr, size), for the link types this libbpf (1.1) has no API for:
     * glibc's syscall ignores the vector-register count of a variadic call ({@code Native}).
     */
    private static final NativeFunction SYSCALL = NativeFunction.libc("syscall");
    private static final long SYS_BPF = "aarch64".equals(System.getProperty("os.arch")) ? 280 : 321;

    private final BpfObject object;
    /** struct bpf_program *, owned by the object. */
    private final long program;

    BpfProgram(BpfObject object, long program) {
        this.object = object;
        this.program = program;
    }

    public String name() {
        return LibBpf.string(NAME.call(program));
    }

    public String sectionName() {
        return LibBpf.string(SECTION_NAME.call(program));
    }

    /** Whether {@link BpfObject#load()} loads this program; set before load. */
    public void setAutoload(boolean autoload) throws BpfException {
        LibBpf.checkedInt("bpf_program__set_autoload(" + name() + ")", SET_AUTOLOAD.call(program, autoload ? 1 : 0));
    }

    public int fd() {
        return (int) FD.call(program);
    }

    /**
     * How many times the kernel skipped this program because it was already running on that CPU
     * (a tp_btf or fentry program re-entered from an interrupt, say): each is an event the probe
     * never saw. 0 when the program is not loaded or the kernel does not count (before 5.12).
     */
    public long recursionMisses() throws BpfException {
        int fd = fd();
        if (fd < 0) {
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            long size = RECURSION_MISSES_OFFSET + 8;
            MemorySegment info = arena.allocate(size, 8);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            length.set(ValueLayout.JAVA_INT, 0, (int) size);
            LibBpf.checkedInt(what("bpf_obj_get_info_by_fd"), OBJ_GET_INFO_BY_FD.call(fd, info.address(), length.address()));
            // the kernel fills what it knows and says how much: an older one stops before the counter
            return length.get(ValueLayout.JAVA_INT, 0) >= size ? info.get(ValueLayout.JAVA_LONG, RECURSION_MISSES_OFFSET) : 0;
        }
    }

    private String what(String call) {
        return call + "(" + object.name() + "/" + name() + ")";
    }

    /** Attaches by section: tracepoints, tp_btf, raw_tp. */
    public BpfLink attach() throws BpfException {
        LibBpf.clearWarnings();
        long link = LibBpf.checkedPtr(what("bpf_program__attach"), ATTACH.call(program));
        return new BpfLink(link, object.name() + "/" + name() + " " + sectionName());
    }

    /** A uprobe (or uretprobe) at a file offset of a binary, for one pid (-1 = every process: avoid). */
    public BpfLink attachUprobe(boolean retprobe, int pid, String binaryPath, long fileOffset) throws BpfException {
        LibBpf.clearWarnings();
        try (Arena arena = Arena.ofConfined()) {
            long link = LibBpf.checkedPtr(what(retprobe ? "attach_uretprobe" : "attach_uprobe") + " at "
                    + binaryPath + "+0x" + Long.toHexString(fileOffset),
                    ATTACH_UPROBE.call(program, retprobe ? 1 : 0, pid, arena.allocateFrom(binaryPath).address(), fileOffset));
            return new BpfLink(link, name() + (retprobe ? " uretprobe " : " uprobe ") + binaryPath + "+0x"
                    + Long.toHexString(fileOffset));
        }
    }

    /** libbpf 1.1 sizeof(struct bpf_uprobe_opts): sz, ref_ctr_offset@8, bpf_cookie@16, retprobe@24, func_name@32. */
    private static final long UPROBE_OPTS_SIZE = 40;

    /**
     * A uprobe at a file offset for one pid, with a BPF cookie (bpf_get_attach_cookie) and the
     * file offset of a USDT semaphore the kernel raises while it is attached (0: none).
     */
    public BpfLink attachUprobe(int pid, String binaryPath, long fileOffset, long cookie, long semaphoreOffset)
            throws BpfException {
        LibBpf.clearWarnings();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment opts = arena.allocate(UPROBE_OPTS_SIZE, 8);
            opts.set(ValueLayout.JAVA_LONG, 0, UPROBE_OPTS_SIZE);
            opts.set(ValueLayout.JAVA_LONG, 8, semaphoreOffset);
            opts.set(ValueLayout.JAVA_LONG, 16, cookie);
            String at = binaryPath + "+0x" + Long.toHexString(fileOffset);
            long link = LibBpf.checkedPtr(what("bpf_program__attach_uprobe_opts") + " at " + at,
                    ATTACH_UPROBE_OPTS.call(program, pid, arena.allocateFrom(binaryPath).address(), fileOffset, opts.address()));
            return new BpfLink(link, name() + " uprobe " + at);
        }
    }

    /** Attaches to an open perf event (e.g. a cpu-clock sampling event); the fd is the link's, or closed if it fails. */
    public BpfLink attachPerfEvent(int perfEventFd) throws BpfException {
        LibBpf.clearWarnings();
        long link;
        try {
            link = LibBpf.checkedPtr(what("bpf_program__attach_perf_event"), ATTACH_PERF_EVENT.call(program, perfEventFd));
        } catch (BpfException | RuntimeException e) {
            LibBpf.closeFd(perfEventFd); // the link owns the fd only once it exists
            throw e;
        }
        return new BpfLink(link, name() + " perf_event fd " + perfEventFd);
    }

    /** A USDT probe of a binary, for one pid or -1. */
    public BpfLink attachUsdt(int pid, String binaryPath, String provider, String probe) throws BpfException {
        LibBpf.clearWarnings();
        try (Arena arena = Arena.ofConfined()) {
            long link = LibBpf.checkedPtr(what("bpf_program__attach_usdt") + " " + provider + ":" + probe,
                    ATTACH_USDT.call(program, pid, arena.allocateFrom(binaryPath).address(), arena.allocateFrom(provider).address(),
                            arena.allocateFrom(probe).address(), 0));
            return new BpfLink(link, name() + " usdt " + provider + ":" + probe);
        }
    }

    /**
     * Runs an iterator program ({@code SEC("iter/...")}) once, attaching it for the time of the
     * run, and returns what it wrote with bpf_seq_write/printf: at most {@code maxBytes}, the rest
     * is not read (the kernel stops the walk when the reader stops).
     */
    public byte[] runIterator(int maxBytes) throws BpfException {
        LibBpf.clearWarnings();
        BpfLink link = new BpfLink(LibBpf.checkedPtr(what("bpf_program__attach_iter"), ATTACH_ITER.call(program, 0)),
                name() + " iter");
        try (link; Arena arena = Arena.ofConfined()) {
            int fd = LibBpf.checkedInt(what("bpf_iter_create"), ITER_CREATE.call(link.fd()));
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                MemorySegment buffer = arena.allocate(64 * 1024);
                while (out.size() < maxBytes) {
                    long n = READ.call(fd, buffer.address(), Math.min(buffer.byteSize(), maxBytes - out.size()));
                    if (n < 0) {
                        int errno = LibBpf.errno();
                        if (errno == Errno.EINTR || errno == Errno.EAGAIN) {
                            continue;
                        }
                        throw LibBpf.failure(what("read of the iterator"), errno);
                    }
                    if (n == 0) {
                        break;
                    }
                    out.write(buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), 0, (int) n);
                }
                return out.toByteArray();
            } finally {
                LibBpf.closeFd(fd);
            }
        }
    }

    /** BPF_TRACE_UPROBE_SESSION (Linux 6.13+). */
    public static final int UPROBE_SESSION = 57;
    private static final int BPF_LINK_CREATE = 28;
    private static final int LINK_CREATE_UPROBE_MULTI_SIZE = 64;

    /** The attach type the kernel checks at load (e.g. {@link #UPROBE_SESSION}); before load. */
    public void setExpectedAttachType(int attachType) throws BpfException {
        LibBpf.checkedInt(what("bpf_program__set_expected_attach_type"), SET_EXPECTED_ATTACH_TYPE.call(program, attachType));
    }

    /**
     * A uprobe session at a file offset of a binary, for one pid: the program runs at the entry
     * and, when the entry returned 0, at the return. The program must have been loaded with
     * {@link #UPROBE_SESSION} as its expected attach type.
     */
    public BpfLink attachUprobeSession(int pid, String binaryPath, long fileOffset) throws BpfException {
        return attachUprobeMulti(UPROBE_SESSION, pid, binaryPath, new long[] {fileOffset}, null, null);
    }

    /** BPF_TRACE_UPROBE_MULTI (Linux 6.6+). */
    public static final int UPROBE_MULTI = 48;

    /**
     * One link for uprobes at several file offsets of a binary, for one pid, each with its BPF
     * cookie and USDT semaphore offset (arrays may be null): attached in one call, and detached
     * with one wait for the kernel's grace period instead of one per probe. Through
     * BPF_LINK_CREATE with uprobe_multi (this libbpf predates the API); the program must have
     * been loaded with {@code attachType} ({@link #UPROBE_MULTI} or {@link #UPROBE_SESSION}) as
     * its expected attach type.
     */
    public BpfLink attachUprobeMulti(int attachType, int pid, String binaryPath, long[] offsets, long[] cookies,
            long[] semaphoreOffsets) throws BpfException {
        return attachUprobeMulti(attachType, false, pid, binaryPath, offsets, cookies, semaphoreOffsets);
    }

    /** uprobe_multi.flags: the program runs at the functions' returns (a uretprobe). */
    private static final int BPF_F_UPROBE_MULTI_RETURN = 1;

    /** One link for uretprobes at several file offsets of a binary, for one pid ({@link #UPROBE_MULTI} programs). */
    public BpfLink attachUretprobeMulti(int pid, String binaryPath, long[] offsets) throws BpfException {
        return attachUprobeMulti(UPROBE_MULTI, true, pid, binaryPath, offsets, null, null);
    }

    private BpfLink attachUprobeMulti(int attachType, boolean retprobe, int pid, String binaryPath, long[] offsets, long[] cookies,
            long[] semaphoreOffsets) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment path = arena.allocateFrom(binaryPath);
            MemorySegment attr = arena.allocate(LINK_CREATE_UPROBE_MULTI_SIZE, 8); // zeroed
            attr.set(ValueLayout.JAVA_INT, 0, fd());                  // prog_fd
            attr.set(ValueLayout.JAVA_INT, 8, attachType);            // attach_type
            attr.set(ValueLayout.JAVA_LONG, 16, path.address());     // uprobe_multi.path
            attr.set(ValueLayout.JAVA_LONG, 24, arena.allocateFrom(ValueLayout.JAVA_LONG, offsets).address());
            if (semaphoreOffsets != null) {
                attr.set(ValueLayout.JAVA_LONG, 32, arena.allocateFrom(ValueLayout.JAVA_LONG, semaphoreOffsets).address());
            }
            if (cookies != null) {
                attr.set(ValueLayout.JAVA_LONG, 40, arena.allocateFrom(ValueLayout.JAVA_LONG, cookies).address());
            }
            attr.set(ValueLayout.JAVA_INT, 48, offsets.length);       // uprobe_multi.cnt
            attr.set(ValueLayout.JAVA_INT, 52, retprobe ? BPF_F_UPROBE_MULTI_RETURN : 0); // uprobe_multi.flags
            attr.set(ValueLayout.JAVA_INT, 56, pid);                  // uprobe_multi.pid
            long fd = SYSCALL.call(SYS_BPF, BPF_LINK_CREATE, attr.address(), LINK_CREATE_UPROBE_MULTI_SIZE);
            String at = binaryPath + (offsets.length == 1 ? "+0x" + Long.toHexString(offsets[0]) : " (" + offsets.length
                    + " offsets)") + " pid " + pid;
            if (fd < 0) {
                throw LibBpf.failure(what("BPF_LINK_CREATE uprobe_multi") + " at " + at, LibBpf.errno());
            }
            return new BpfLink((int) fd, name() + (attachType == UPROBE_SESSION ? " uprobe session "
                    : retprobe ? " uretprobe_multi " : " uprobe_multi ") + at);
        }
    }

    /** Runs a {@code SEC("syscall")} program once (BPF_PROG_TEST_RUN); returns its return value. */
    public int testRun() throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment opts = arena.allocate(TEST_RUN_OPTS_SIZE, 8);
            opts.set(ValueLayout.JAVA_LONG, 0, TEST_RUN_OPTS_SIZE);
            LibBpf.checkedInt(what("bpf_prog_test_run_opts"), PROG_TEST_RUN.call(fd(), opts.address()));
            return opts.get(ValueLayout.JAVA_INT, 56);
        }
    }
}
