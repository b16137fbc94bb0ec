package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.os.KernelBtf;
import io.jfrebpf.bpf.OffcpuObject;
import io.jfrebpf.events.OffCPUEvent;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * {@code offcpu}: time our threads spend off CPU — blocked, sleeping or preempted — at or above
 * {@code offcpu.threshold}, with the stack where each blocked (kernel and user) and its state, as
 * {@code ebpf.OffCPU}. One tp_btf program on sched_switch: every context switch on the host runs
 * its first two comparisons. The user stack of a stretch is walked only when the stretch is long
 * enough to send, by a task work on the thread's return to user mode, where the kernel has
 * {@code bpf_task_work} (Linux 6.18) and its verifier allows it here; otherwise, at every switch-out of our threads.
 */
public final class OffCpuProbe extends BpfProbe {
    /** The kfunc that schedules a task work, by the name Linux 6.18 gives it (offcpu.bpf.c). */
    static final String TASK_WORK = "bpf_task_work_schedule_resume_impl";
    private boolean walkOnResume;
    /** Set when this kernel has the kfunc but its verifier refused it in sched_switch: the walk at switch-out then. */
    private String taskWorkRefused;

    public OffCpuProbe() {
        super("offcpu", OffcpuObject.OBJECT, OffcpuObject.Maps.EVENTS);
    }

    @Override
    protected void configure(BpfObject object) throws BpfException {
        object.rodata().setLong(OffcpuObject.Rodata.MIN_DURATION_NS, context.options().offcpuThreshold().toNanos());
        try {
            walkOnResume = taskWorkRefused == null && KernelBtf.hasString(TASK_WORK);
        } catch (IOException | RuntimeException e) {
            walkOnResume = false; // the walk at every switch-out works everywhere
        }
        object.rodata().setInt(OffcpuObject.Rodata.WALK_ON_RESUME, walkOnResume ? 1 : 0);
    }

    /**
     * Some kernels that have the kfunc refuse it from a tracepoint program (6.18.44 here: "sleepable
     * callback in a program that is not sleepable"); the walk at switch-out loads everywhere.
     */
    @Override
    protected boolean fallBack(BpfException refused) {
        if (!walkOnResume) {
            return false;
        }
        taskWorkRefused = verifierReason(String.valueOf(refused.getMessage()));
        Log.info("probe offcpu: this kernel refuses a task work from sched_switch (%s); user stacks are walked at every"
                + " switch-out instead", taskWorkRefused);
        return true;
    }

    /** The verifier's line that says why, from libbpf's load log in the message; the message's start when there is none. */
    static String verifierReason(String message) {
        for (String part : message.split("\\R| / ")) {
            String line = part.strip();
            if (line.contains("callback") || line.contains(TASK_WORK) && !line.contains("call ")) {
                return line;
            }
        }
        return message.length() > 160 ? message.substring(0, 160) + "..." : message;
    }

    @Override
    protected void attach(BpfObject object) throws BpfException {
        keep(object.program(OffcpuObject.Programs.SCHED_SWITCH).attach());
    }

    @Override
    public String attachedAs() {
        return "tp_btf sched_switch, threshold " + context.options().offcpuThreshold().toNanos() / 1000 + " us, user stacks walked "
                + (walkOnResume ? "on return to user mode (task work)"
                        : taskWorkRefused != null ? "at every switch-out (this kernel's verifier refuses bpf_task_work here: " + taskWorkRefused + ")"
                        : "at every switch-out (no bpf_task_work in this kernel)");
    }

    @Override
    protected String recoveredWhat() {
        return walkOnResume ? "off-CPU stretches whose thread came back unseen, counted but not sent: no stack was taken for them"
                : "off-CPU stretches (no kernel stack) sent without seeing their thread come back";
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        OffCpuRecord r = OffCpuRecord.decode(segment);
        OffCPUEvent e = new OffCPUEvent();
        e.state = OffCpuRecord.stateName(r.state());
        emit(e, r.header(), r.kernelIps());
    }
}
