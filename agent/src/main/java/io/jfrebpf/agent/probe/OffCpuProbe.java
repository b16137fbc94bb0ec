package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.BpfProgram;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.ElfFiles;
import io.jfrebpf.agent.os.KernelBtf;
import io.jfrebpf.agent.os.ProcMaps;
import io.jfrebpf.bpf.OffcpuLayout;
import io.jfrebpf.bpf.OffcpuObject;
import io.jfrebpf.events.OffCPUEvent;
import io.jfrebpf.events.VirtualThreadPinnedEvent;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code offcpu}: time our threads spend off CPU — blocked, sleeping or preempted — at or above
 * {@code offcpu.threshold}, with the stack where each blocked (kernel and user) and its state, as
 * {@code ebpf.OffCPU}. One tp_btf program on sched_switch: every context switch on the host runs
 * its first two comparisons. The user stack of a stretch is walked only when the stretch is long
 * enough to send, by the thread itself on its return to user mode, seen by a tp_btf program on
 * rseq_update (threads with restartable sequences, which glibc 2.35+ registers for every thread;
 * bpf/offcpu.bpf.c says why that moment is exact); where that cannot be had, at every
 * switch-out of our threads.
 *
 * <p>A virtual thread that parks unmounts, and its wait is no OS thread's: uprobes on libjvm's
 * continuation freeze and thaw (one uprobe_multi link each, over every GC's instance of the
 * template) send it as an {@code ebpf.OffCPU} of state {@code U} on the virtual thread, with the
 * stack where it parked, and a failed unmount as {@code ebpf.VirtualThreadPinned}. Without the
 * functions in libjvm's .symtab, uprobe_multi (Linux 6.6) or the mounted thread's id, those are
 * not seen and {@link #attachedAs} says why.
 */
public final class OffCpuProbe extends BpfProbe {
    /** The tracepoint at a thread's return to user mode after a context switch (CONFIG_RSEQ). */
    static final String RSEQ_TRACEPOINT = "rseq_update";
    /** Whether user stacks are walked on the thread's return to user mode (the rseq_update program loaded). */
    private boolean walkOnResume;
    private boolean askedForRseq;
    /** Why they are walked at every switch-out instead, once the rseq_update program was refused. */
    private String resumeRefused;
    /** Mangled-name prefixes of the template instances of continuationFreezeThaw.cpp (one per GC and oop kind). */
    static final String FREEZE_PREFIX = "_Z15freeze_internalI6Config";
    /**
     * Why unmounted waits are off by default: every park of a virtual thread then pays a uprobe
     * and a uretprobe at the freeze and a uprobe at the thaw, short waits as much as long ones (the
     * stack is walked at the thaw, for waits above the threshold only; the traps are the price:
     * bench/src/main/java/io/jfrebpf/bench/VirtualParks.java, docs/virtual-threads.md).
     */
    static final String OPT_IN = "off by default, offcpu.virtual=true turns them on (each park of a virtual thread then costs"
            + " ~20 us CPU: uprobes on libjvm's freeze and thaw)";
    static final String THAW_PREFIX = "_Z4thawI6Config";
    static final List<String> UNMOUNT_PROGRAMS = List.of(OffcpuObject.Programs.FREEZE_ENTER, OffcpuObject.Programs.FREEZE_EXIT,
            OffcpuObject.Programs.THAW_ENTER);
    /** libjvm and the file offsets of the freeze and thaw instances; null when unmounted waits are not seen. */
    private Path libjvm;
    private long[] freezes;
    private long[] thaws;
    /** How unmounted waits are seen, or why not. */
    private String unmounted;
    /** Whether libjvm's freeze and thaw have been looked for (a pass over its 70,000 symbols). */
    private boolean searchedLibjvm;

    public OffCpuProbe() {
        super("offcpu", OffcpuObject.OBJECT, OffcpuObject.Maps.EVENTS);
    }

    @Override
    protected void configure(BpfObject object) throws BpfException {
        object.rodata().setLong(OffcpuObject.Rodata.MIN_DURATION_NS, context.options().offcpuThreshold().toNanos());
        if (!askedForRseq) { // once: configure runs again after a fallBack
            askedForRseq = true;
            walkOnResume = hasRseqTracepoint();
        }
        object.rodata().setInt(OffcpuObject.Rodata.WALK_ON_RESUME, walkOnResume ? 1 : 0);
        object.program(OffcpuObject.Programs.RSEQ_UPDATE).setAutoload(walkOnResume);
        if (!searchedLibjvm) { // once: configure runs again after a fallBack, on the same libjvm
            searchedLibjvm = true;
            String missing = context.options().offcpuVirtual() ? findFreezeAndThaw() : OPT_IN;
            if (missing != null) {
                unmounted = "virtual threads' waits while unmounted are not seen: " + missing;
                if (context.options().offcpuVirtual()) { // asked for and not to be had: say so; off by default is only in ebpf.ProbeStatus
                    Log.info("probe offcpu: %s", unmounted);
                }
            }
        }
        for (String program : UNMOUNT_PROGRAMS) {
            BpfProgram p = object.program(program);
            p.setAutoload(libjvm != null);
            if (libjvm != null) {
                p.setExpectedAttachType(BpfProgram.UPROBE_MULTI);
            }
        }
    }

    private boolean hasRseqTracepoint() {
        try {
            if (KernelBtf.hasTracepoint(RSEQ_TRACEPOINT)) {
                return true;
            }
            resumeRefused = "this kernel has no " + RSEQ_TRACEPOINT + " tracepoint";
        } catch (IOException e) {
            resumeRefused = "cannot read the kernel's BTF (" + e.getMessage() + ")";
        }
        return false;
    }

    /** Finds libjvm's freeze and thaw instances; null when found, else why not. */
    private String findFreezeAndThaw() {
        if (!context.recorder().threads().mountedThreads().known()) {
            return "the mounted virtual thread cannot be read (" + context.recorder().threads().mountedThreads().describe() + ")";
        }
        if (!LibcFunctions.uprobeMulti()) {
            return "this kernel has no uprobe_multi links (Linux 6.6)";
        }
        try {
            Path jvm = ProcMaps.selfAtStart().libjvm().orElseThrow(() -> new IOException("no libjvm.so mapped"));
            try (ElfFile elf = ElfFiles.open(jvm)) {
                long[] f = offsets(elf, elf.functionsStartingWith(FREEZE_PREFIX, 64));
                long[] t = offsets(elf, elf.functionsStartingWith(THAW_PREFIX, 64));
                if (f.length == 0 || t.length == 0) {
                    return jvm + " has no freeze_internal or thaw in its .symtab (stripped, or not JDK 24+)";
                }
                libjvm = jvm;
                freezes = f;
                thaws = t;
                return null;
            }
        } catch (IOException | RuntimeException e) {
            return "cannot read libjvm's symbols (" + e.getMessage() + ")";
        }
    }

    private static long[] offsets(ElfFile elf, List<ElfFile.Symbol> symbols) throws IOException {
        long[] offsets = new long[symbols.size()];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = elf.fileOffset(symbols.get(i).value());
        }
        return java.util.Arrays.stream(offsets).distinct().toArray();
    }

    /**
     * A kernel without the rseq_update tracepoint (CONFIG_RSEQ off) refuses the object that has
     * its program; without it, the walk at switch-out loads everywhere.
     */
    @Override
    protected boolean fallBack(BpfException refused) {
        if (!walkOnResume) {
            return false;
        }
        walkOnResume = false;
        resumeRefused = refusalReason(String.valueOf(refused.getMessage()));
        Log.info("probe offcpu: the rseq_update program does not load here (%s); user stacks are walked at every switch-out"
                + " instead", resumeRefused);
        return true;
    }

    /** libbpf's line about the rseq_update program in the message, which says why it was refused; the message's start when there is none. */
    static String refusalReason(String message) {
        for (String part : message.split("\\R| / ")) {
            String line = part.strip();
            int libbpf = line.indexOf("libbpf: ");
            if (libbpf >= 0 && line.indexOf(RSEQ_TRACEPOINT, libbpf) >= 0) {
                return line.substring(libbpf);
            }
        }
        return message.length() > 160 ? message.substring(0, 160) + "..." : message;
    }

    @Override
    protected void attach(BpfObject object) throws BpfException {
        keep(object.program(OffcpuObject.Programs.SCHED_SWITCH).attach());
        if (walkOnResume) {
            keep(object.program(OffcpuObject.Programs.RSEQ_UPDATE).attach());
        }
        if (libjvm == null) {
            return;
        }
        int pid = context.pid();
        String path = libjvm.toString();
        try {
            keep(object.program(OffcpuObject.Programs.FREEZE_ENTER).attachUprobeMulti(BpfProgram.UPROBE_MULTI, pid, path, freezes, null, null));
            keep(object.program(OffcpuObject.Programs.FREEZE_EXIT).attachUretprobeMulti(pid, path, freezes));
            keep(object.program(OffcpuObject.Programs.THAW_ENTER).attachUprobeMulti(BpfProgram.UPROBE_MULTI, pid, path, thaws, null, null));
            context.poller().add(object.map(OffcpuObject.Maps.PINNED), this::onPinned);
            unmounted = "virtual threads' waits while unmounted (state U) and pinning: uprobe_multi on " + path + " (" + freezes.length
                    + " freeze_internal, " + thaws.length + " thaw)";
        } catch (BpfException e) {
            // the off-CPU stretches of OS threads go on without them
            unmounted = "virtual threads' waits while unmounted are not seen: " + LibcFunctions.explained(e, "offcpu", "").getMessage();
            Log.info("probe offcpu: %s", unmounted);
        }
    }

    @Override
    public String attachedAs() {
        return "tp_btf sched_switch, threshold " + context.options().offcpuThreshold().toNanos() / 1000 + " us, user stacks walked "
                + (walkOnResume ? "on the thread's return to user mode (tp_btf rseq_update; at switch-out for threads without rseq)"
                        : "at every switch-out (" + resumeRefused + ")")
                + "; " + unmounted;
    }

    @Override
    protected void closing(BpfObject loaded) throws BpfException {
        long missed = walkOnResume ? loaded.map(OffcpuObject.Maps.RESUME_MISSED).sumPerCpuLong(0) : 0;
        if (missed > 0) {
            Log.info("probe offcpu: %d threads returned to user mode without rseq_update; their off-CPU stretches went without"
                    + " a user stack", missed);
        }
    }

    @Override
    protected String recoveredWhat() {
        return "off-CPU stretches (no kernel stack) sent without seeing their thread come back (those with no user stack to be had"
                + " counted, not sent)";
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        OffCpuRecord r = OffCpuRecord.decode(segment);
        OffCPUEvent e = new OffCPUEvent();
        e.state = OffCpuRecord.stateName(r.state());
        if (r.state() == (int) OffcpuLayout.OFFCPU_UNMOUNTED) {
            emitUnmounted(e, r.header());
        } else {
            emit(e, r.header(), r.kernelIps());
        }
    }

    private void onPinned(MemorySegment segment) {
        PinnedRecord r = PinnedRecord.decode(segment);
        VirtualThreadPinnedEvent e = new VirtualThreadPinnedEvent();
        e.reason = PinnedRecord.reasonName(r.reason());
        emit(e, r.header());
    }
}
