package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KernelBtfTest {
    @Test
    void findsWholeNamesOnly() {
        byte[] strings = "\0btf_trace_sock_send_length\0tcp_sock\0x\0".getBytes(StandardCharsets.UTF_8);
        assertTrue(KernelBtf.contains(strings, "btf_trace_sock_send_length"));
        assertTrue(KernelBtf.contains(strings, "tcp_sock"));
        assertTrue(KernelBtf.contains(strings, "x"));
        assertFalse(KernelBtf.contains(strings, "btf_trace_sock_send"), "a prefix is not the name");
        assertFalse(KernelBtf.contains(strings, "sock_send_length"), "a suffix is not the name");
        assertFalse(KernelBtf.contains(strings, "tcp_sock\0x"), "nor two names");
        assertFalse(KernelBtf.contains(new byte[0], "x"));
    }

    /** The running kernel (every machine this builds on has BTF: the BPF build needs it). */
    @Test
    void theRunningKernelHasTheTracepointsTheProbesUse() throws Exception {
        for (String tracepoint : new String[] {"sched_switch", "inet_sock_set_state", "tcp_retransmit_skb"}) {
            assertTrue(KernelBtf.hasTracepoint(tracepoint), tracepoint);
        }
        assertFalse(KernelBtf.hasTracepoint("jfr_ebpf_no_such_tracepoint"));
    }
}
