package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.Options.ProbeName;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.BpfProgram;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.ElfFiles;
import io.jfrebpf.agent.os.Errno;
import io.jfrebpf.agent.os.NativeFunction;
import io.jfrebpf.agent.os.OpenFlags;
import io.jfrebpf.agent.os.SyscallTable;
import io.jfrebpf.bpf.FileOpenObject;
import io.jfrebpf.events.FileOpenEvent;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code file}: every open, openat, openat2 and creat of our process as {@code ebpf.FileOpen}.
 * By default through uprobes on the libc this JVM maps, attached for our pid only, so no other
 * process on the host pays anything; through the syscall tracepoints when the user turned the
 * {@code syscall} probe on anyway (that one already taxes the host, and the tracepoints also see
 * libc's internal opens: fopen, opendir, dlopen).
 */
public final class FileOpenProbe extends BpfProbe {
    /** libc entry points, by calling convention; aliases share an address and get one uprobe. */
    enum Entry {
        OPEN(FileOpenObject.Programs.UPROBE_OPEN, List.of("open", "open64", "__open_2", "__open64_2")),
        OPENAT(FileOpenObject.Programs.UPROBE_OPENAT, List.of("openat", "openat64", "__openat_2", "__openat64_2")),
        CREAT(FileOpenObject.Programs.UPROBE_CREAT, List.of("creat", "creat64"));

        final String program;
        final List<String> symbols;

        Entry(String program, List<String> symbols) {
            this.program = program;
            this.symbols = symbols;
        }
    }

    static final String RETURN_PROGRAM = FileOpenObject.Programs.URETPROBE_OPEN;
    static final List<String> TRACEPOINT_PROGRAMS = List.of(FileOpenObject.Programs.TP_SYS_ENTER_OPEN,
            FileOpenObject.Programs.TP_SYS_EXIT_OPEN);

    private boolean tracepoints;
    /** uprobe_multi links (Linux 6.6+): one link a program, detached with one grace period each; else a perf uprobe a function. */
    private boolean multi;
    private String attachedAs = "";
    private Path libc;

    public FileOpenProbe() {
        super("file", FileOpenObject.OBJECT, FileOpenObject.Maps.EVENTS);
    }

    @Override
    protected void configure(BpfObject object) throws BpfException {
        tracepoints = context.options().probes().contains(ProbeName.SYSCALL);
        for (BpfProgram p : object.programs()) {
            boolean isTracepoint = TRACEPOINT_PROGRAMS.contains(p.name());
            p.setAutoload(isTracepoint == tracepoints);
        }
        if (tracepoints) {
            SyscallTable table = context.syscalls().get();
            object.rodata().setInt(FileOpenObject.Rodata.NR_OPEN, table.number("open").orElse(-1));
            object.rodata().setInt(FileOpenObject.Rodata.NR_OPENAT, table.number("openat").orElse(-1));
            object.rodata().setInt(FileOpenObject.Rodata.NR_OPENAT2, table.number("openat2").orElse(-1));
            object.rodata().setInt(FileOpenObject.Rodata.NR_CREAT, table.number("creat").orElse(-1));
        } else {
            object.rodata().setLong(FileOpenObject.Rodata.ERRNO_TLS_OFFSET, errnoTlsOffset());
            multi = LibcFunctions.uprobeMulti();
            if (multi) {
                for (Entry entry : Entry.values()) {
                    object.program(entry.program).setExpectedAttachType(BpfProgram.UPROBE_MULTI);
                }
                object.program(RETURN_PROGRAM).setExpectedAttachType(BpfProgram.UPROBE_MULTI);
            }
        }
    }

    /**
     * Where libc keeps errno, relative to the thread pointer: libc's -1 is all a uretprobe sees,
     * the error itself is in thread-local storage. On x86_64 glibc the thread pointer (fsbase) is
     * {@code pthread_self()}, and libc's TLS sits at the same offset from it in every thread.
     */
    static long errnoTlsOffset() {
        try {
            long tp = NativeFunction.libc("pthread_self").call();
            long at = NativeFunction.libc("__errno_location").call();
            long offset = at - tp;
            return Math.abs(offset) < (1L << 20) ? offset : 0;
        } catch (RuntimeException | LinkageError t) {
            Log.debug("file: libc errno location unknown (%s): failed opens report -1", t);
            return 0;
        }
    }

    @Override
    protected void attach(BpfObject object) throws Exception {
        if (tracepoints) {
            for (String name : TRACEPOINT_PROGRAMS) {
                keep(object.program(name).attach());
            }
            attachedAs = "syscall tracepoints (the syscall probe is on)";
            return;
        }
        libc = LibcFunctions.libc();
        Map<Long, Entry> byAddress = new LinkedHashMap<>();
        Map<Long, String> names = new LinkedHashMap<>();
        try (ElfFile elf = ElfFiles.open(libc)) {
            List<String> wanted = new ArrayList<>();
            for (Entry entry : Entry.values()) {
                wanted.addAll(entry.symbols);
            }
            Map<String, ElfFile.Symbol> found = elf.symbols(wanted);
            for (Entry entry : Entry.values()) {
                for (String symbol : entry.symbols) {
                    ElfFile.Symbol s = found.get(symbol);
                    if (s == null) {
                        continue;
                    }
                    long offset = elf.fileOffset(s.value());
                    Entry previous = byAddress.putIfAbsent(offset, entry);
                    if (previous == null) {
                        names.put(offset, symbol);
                    } else if (previous != entry) {
                        Log.warn("libc %s: %s shares an address with a function of another kind; kept the first", libc, symbol);
                    }
                }
            }
        }
        if (byAddress.isEmpty()) {
            throw new IOException(libc + " exports none of open, openat, creat");
        }
        int pid = context.pid();
        try {
            if (multi) {
                for (Entry entry : Entry.values()) {
                    long[] offsets = offsetsOf(byAddress, entry);
                    if (offsets.length > 0) {
                        keep(object.program(entry.program).attachUprobeMulti(BpfProgram.UPROBE_MULTI, pid, libc.toString(), offsets,
                                null, null));
                    }
                }
                long[] all = offsetsOf(byAddress, null);
                keep(object.program(RETURN_PROGRAM).attachUretprobeMulti(pid, libc.toString(), all));
            } else {
                for (Map.Entry<Long, Entry> e : byAddress.entrySet()) {
                    keep(object.program(e.getValue().program).attachUprobe(false, pid, libc.toString(), e.getKey()));
                    keep(object.program(RETURN_PROGRAM).attachUprobe(true, pid, libc.toString(), e.getKey()));
                }
            }
        } catch (BpfException e) {
            throw LibcFunctions.explained(e, "file",
                    "; probes=syscall+file needs only those two, but taxes every process's syscalls");
        }
        attachedAs = (multi ? "uprobe_multi" : "uprobes") + " for pid " + pid + " on " + libc + " ("
                + String.join(", ", names.values()) + ")";
        Log.debug("file: %s", attachedAs);
    }

    @Override
    public String attachedAs() {
        return attachedAs;
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        FileOpenRecord r = FileOpenRecord.decode(segment);
        FileOpenEvent e = new FileOpenEvent();
        e.path = PathRedaction.apply(resolve(r.dirfd(), r.path()), context.options().redactPaths());
        e.pathTruncated = r.truncated();
        e.flags = OpenFlags.format(r.flags());
        e.fd = r.result() >= 0 ? (int) r.result() : -1;
        e.error = r.errnoUnknown() ? "unknown" : r.result() < 0 ? Errno.name((int) -r.result()) : null;
        emit(e, r.header());
    }

    /**
     * The absolute path of an open: relative paths against the working directory
     * ({@code AT_FDCWD}) or the directory fd, read from /proc now — the fd is normally still
     * open this soon after the call; if not, the path says which fd it was relative to.
     */
    static String resolve(int dirfd, String path) {
        if (path.startsWith("/") || path.isEmpty()) {
            return path;
        }
        String base;
        if (dirfd == FileOpenRecord.AT_FDCWD) {
            base = readLink(Path.of("/proc/self/cwd")).orElse(System.getProperty("user.dir"));
        } else {
            base = readLink(Path.of("/proc/self/fd/" + dirfd)).orElse("<dirfd " + dirfd + ">");
        }
        return base.endsWith("/") ? base + path : base + "/" + path;
    }

    private static Optional<String> readLink(Path link) {
        try {
            return Optional.of(Files.readSymbolicLink(link).toString());
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
    }

    /** The offsets of {@code entry}'s functions (null: of all), in their order; loops, not streams (start-up cost). */
    private static long[] offsetsOf(Map<Long, Entry> byAddress, Entry entry) {
        long[] offsets = new long[byAddress.size()];
        int n = 0;
        for (Map.Entry<Long, Entry> e : byAddress.entrySet()) {
            if (entry == null || e.getValue() == entry) {
                offsets[n++] = e.getKey();
            }
        }
        return Arrays.copyOf(offsets, n);
    }
}
