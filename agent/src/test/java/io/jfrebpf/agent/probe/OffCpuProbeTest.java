package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class OffCpuProbeTest {
    /** What libbpf put in the message on the 6.18.44 kernel of these machines, shortened. */
    private static final String REFUSED = "bpf_object__load(offcpu) failed: EPERM (libbpf: libbpf: prog 'sched_switch': BPF program"
            + " load failed: Operation not permitted / libbpf: prog 'sched_switch': -- BEGIN PROG LOAD LOG --\n"
            + "0: R1=ctx() R10=fp0\n"
            + "1285: (85) call bpf_task_work_schedule_resume_impl#65360\n"
            + "sleepable callback in a program that is not sleepable\n"
            + "kfunc bpf_task_work_schedule_resume_impl#65360 failed callback verification\n"
            + "-- END PROG LOAD LOG -- / libbpf: prog 'sched_switch': failed to load: -1)";

    @Test
    void theVerifiersReasonIsItsLineAboutTheCallback() {
        assertEquals("sleepable callback in a program that is not sleepable", OffCpuProbe.verifierReason(REFUSED));
    }

    @Test
    void withoutAVerifierLogTheMessageStartSays() {
        assertEquals("bpf_object__load(offcpu) failed: ENOMEM", OffCpuProbe.verifierReason("bpf_object__load(offcpu) failed: ENOMEM"));
        String longOne = "x".repeat(300);
        assertEquals("x".repeat(160) + "...", OffCpuProbe.verifierReason(longOne));
    }
}
