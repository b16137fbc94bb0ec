package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class OffCpuProbeTest {
    /** What libbpf puts in the message when a kernel has no rseq_update tracepoint, shortened. */
    private static final String REFUSED = "bpf_object__load(offcpu) failed: ESRCH (libbpf: prog 'rseq_update': failed to find kernel"
            + " BTF type ID of 'btf_trace_rseq_update': -3 / libbpf: prog 'rseq_update': failed to prepare load attributes: -3"
            + " / libbpf: failed to load object 'offcpu')";

    @Test
    void theReasonIsLibbpfsLineAboutTheProgram() {
        assertEquals("libbpf: prog 'rseq_update': failed to find kernel BTF type ID of 'btf_trace_rseq_update': -3",
                OffCpuProbe.refusalReason(REFUSED));
    }

    @Test
    void withoutSuchALineTheMessageStartSays() {
        assertEquals("bpf_object__load(offcpu) failed: ENOMEM", OffCpuProbe.refusalReason("bpf_object__load(offcpu) failed: ENOMEM"));
        String longOne = "x".repeat(300);
        assertEquals("x".repeat(160) + "...", OffCpuProbe.refusalReason(longOne));
    }
}
