package io.jfrebpf.agent.libbpf;

import io.jfrebpf.bpf.CommonLayout;
import io.jfrebpf.agent.os.Errno;
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

    private final BpfObject object;
    private final MemorySegment program;

    BpfProgram(BpfObject object, MemorySegment program) {
        this.object = object;
        this.program = program;
    }

    public String name() {
        return LibBpf.string(LibBpf.callPtr(LibBpf.PROGRAM_NAME, program));
    }

    public String sectionName() {
        return LibBpf.string(LibBpf.callPtr(LibBpf.PROGRAM_SECTION, program));
    }

    /** Whether {@link BpfObject#load()} loads this program; set before load. */
    public void setAutoload(boolean autoload) throws BpfException {
        LibBpf.checkedInt("bpf_program__set_autoload(" + name() + ")", LibBpf.PROGRAM_SET_AUTOLOAD, program, autoload);
    }

    public int fd() {
        return LibBpf.callInt(LibBpf.PROGRAM_FD, program);
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
            LibBpf.checkedInt(what("bpf_obj_get_info_by_fd"), LibBpf.OBJ_GET_INFO_BY_FD, fd, info, length);
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
        MemorySegment link = LibBpf.checkedPtr(what("bpf_program__attach"), LibBpf.PROGRAM_ATTACH, program);
        return new BpfLink(link, object.name() + "/" + name() + " " + sectionName());
    }

    /** A uprobe (or uretprobe) at a file offset of a binary, for one pid (-1 = every process: avoid). */
    public BpfLink attachUprobe(boolean retprobe, int pid, String binaryPath, long fileOffset) throws BpfException {
        LibBpf.clearWarnings();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment link = LibBpf.checkedPtr(what(retprobe ? "attach_uretprobe" : "attach_uprobe") + " at "
                    + binaryPath + "+0x" + Long.toHexString(fileOffset), LibBpf.PROGRAM_ATTACH_UPROBE,
                    program, retprobe, pid, arena.allocateFrom(binaryPath), fileOffset);
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
            MemorySegment link = LibBpf.checkedPtr(what("bpf_program__attach_uprobe_opts") + " at " + at,
                    LibBpf.PROGRAM_ATTACH_UPROBE_OPTS, program, pid, arena.allocateFrom(binaryPath), fileOffset, opts);
            return new BpfLink(link, name() + " uprobe " + at);
        }
    }

    /** Attaches to an open perf event (e.g. a cpu-clock sampling event); the fd is the link's, or closed if it fails. */
    public BpfLink attachPerfEvent(int perfEventFd) throws BpfException {
        LibBpf.clearWarnings();
        MemorySegment link;
        try {
            link = LibBpf.checkedPtr(what("bpf_program__attach_perf_event"), LibBpf.PROGRAM_ATTACH_PERF_EVENT,
                    program, perfEventFd);
        } catch (BpfException | RuntimeException e) {
            LibBpf.callInt(LibBpf.CLOSE, perfEventFd); // the link owns the fd only once it exists
            throw e;
        }
        return new BpfLink(link, name() + " perf_event fd " + perfEventFd);
    }

    /** A USDT probe of a binary, for one pid or -1. */
    public BpfLink attachUsdt(int pid, String binaryPath, String provider, String probe) throws BpfException {
        LibBpf.clearWarnings();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment link = LibBpf.checkedPtr(what("bpf_program__attach_usdt") + " " + provider + ":" + probe,
                    LibBpf.PROGRAM_ATTACH_USDT, program, pid, arena.allocateFrom(binaryPath), arena.allocateFrom(provider),
                    arena.allocateFrom(probe), MemorySegment.NULL);
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
        MemorySegment link = LibBpf.checkedPtr(what("bpf_program__attach_iter"), LibBpf.PROGRAM_ATTACH_ITER, program,
                MemorySegment.NULL);
        try (Arena arena = Arena.ofConfined()) {
            int fd = LibBpf.checkedInt(what("bpf_iter_create"), LibBpf.ITER_CREATE,
                    LibBpf.callInt(LibBpf.LINK_FD, link));
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                MemorySegment buffer = arena.allocate(64 * 1024);
                while (out.size() < maxBytes) {
                    long n = (long) LibBpf.call(LibBpf.READ, fd, buffer, Math.min(buffer.byteSize(), maxBytes - out.size()));
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
                LibBpf.callInt(LibBpf.CLOSE, fd);
            }
        } finally {
            LibBpf.call(LibBpf.LINK_DESTROY, link);
        }
    }

    /** BPF_TRACE_UPROBE_SESSION (Linux 6.13+). */
    public static final int UPROBE_SESSION = 57;
    private static final int BPF_LINK_CREATE = 28;
    private static final int LINK_CREATE_UPROBE_MULTI_SIZE = 64;

    /** The attach type the kernel checks at load (e.g. {@link #UPROBE_SESSION}); before load. */
    public void setExpectedAttachType(int attachType) throws BpfException {
        LibBpf.checkedInt(what("bpf_program__set_expected_attach_type"), LibBpf.PROGRAM_SET_EXPECTED_ATTACH_TYPE, program,
                attachType);
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
            long fd = (long) LibBpf.call(LibBpf.SYSCALL_BPF, LibBpf.SYS_BPF, BPF_LINK_CREATE, attr,
                    LINK_CREATE_UPROBE_MULTI_SIZE);
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
            LibBpf.checkedInt(what("bpf_prog_test_run_opts"), LibBpf.PROG_TEST_RUN, fd(), opts);
            return opts.get(ValueLayout.JAVA_INT, 56);
        }
    }
}
