package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.bpf.OffcpuObject;
import org.junit.jupiter.api.Test;

/**
 * The small check says what the off-CPU probe itself would meet: on this kernel, the real
 * offcpu object with walk_on_resume set loads exactly when bpf/task_work_check.bpf.c does, and
 * where both are refused the verifier gives the same reason. (Loaded without this JVM's layout:
 * the stack walk is pruned, the task work's call is not.)
 */
class TaskWorkCheckIT {
    @Test
    void theCheckAgreesWithTheProbe() throws Exception {
        String check = TaskWorkCheck.refusal();
        String probe = null;
        try (BpfObject offcpu = BpfObject.openResource(OffcpuObject.OBJECT)) {
            offcpu.rodata().setInt(OffcpuObject.Rodata.WALK_ON_RESUME, 1);
            for (String program : OffCpuProbe.UNMOUNT_PROGRAMS) {
                offcpu.program(program).setAutoload(false);
            }
            offcpu.load();
        } catch (BpfException e) {
            probe = String.valueOf(e.getMessage());
        }
        assertEquals(probe == null, check == null, "the check says " + check + "; the probe's load says " + probe);
        if (check != null && !TaskWorkCheck.kfuncMissing()) {
            assertEquals(OffCpuProbe.verifierReason(probe), OffCpuProbe.verifierReason(check));
        }
    }
}
