package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.bpf.TaskWorkCheckObject;
import java.io.IOException;

/**
 * Whether this kernel lets a sched_switch program schedule a task work, asked once by loading
 * bpf/task_work_check.bpf.c (the off-CPU probe's call in 15 instructions, never attached): a
 * kernel that refuses it then costs a small program's verification, not the whole off-CPU
 * probe's verified twice.
 */
final class TaskWorkCheck {
    /** What libbpf says of an extern the kernel's BTF does not have. */
    private static final String NO_KFUNC = "not found in kernel";

    private static boolean checked;
    private static String refusal;
    private static boolean missing;

    private TaskWorkCheck() {
    }

    /** Null when the kernel has the kfunc and allows it there; else why not, as the load said it. */
    static synchronized String refusal() {
        if (!checked) {
            checked = true;
            try (BpfObject check = BpfObject.openResource(TaskWorkCheckObject.OBJECT)) {
                check.load();
            } catch (BpfException | IOException | RuntimeException e) {
                refusal = String.valueOf(e.getMessage());
                missing = refusal.contains(NO_KFUNC);
            }
        }
        return refusal;
    }

    /** After a refusal: whether it was that the kernel has no such kfunc (before Linux 6.18). */
    static synchronized boolean kfuncMissing() {
        return missing;
    }
}
