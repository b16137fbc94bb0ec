package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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

    @Test
    void aMappedSectionIsTakenWhereItLiesOnlyWhenItsHeaderDescribesOne() {
        byte[] strings = "\0btf_trace_rseq_update\0x\0".getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment file = arena.allocate(24 + 8 + strings.length);
            file.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) 0xeb9f);
            file.set(ValueLayout.JAVA_INT_UNALIGNED, 4, 24); // header length
            file.set(ValueLayout.JAVA_INT_UNALIGNED, 16, 8); // strings after 8 bytes of types
            file.set(ValueLayout.JAVA_INT_UNALIGNED, 20, strings.length);
            file.asSlice(24, 8).fill((byte) 'y'); // a type section that ends in no NUL
            MemorySegment.copy(strings, 0, file, ValueLayout.JAVA_BYTE, 32, strings.length);
            MemorySegment section = KernelBtf.mappedStrings(file);
            assertEquals(strings.length, section.byteSize());
            assertTrue(KernelBtf.contains(section, "btf_trace_rseq_update", arena));
            assertTrue(KernelBtf.contains(section, "x", arena));
            assertFalse(KernelBtf.contains(section, "y", arena), "the bytes before the section are not in it");
            file.set(ValueLayout.JAVA_INT_UNALIGNED, 20, strings.length - 1);
            assertNull(KernelBtf.mappedStrings(file), "a section whose last name has no NUL");
            file.set(ValueLayout.JAVA_INT_UNALIGNED, 20, strings.length + 1);
            assertNull(KernelBtf.mappedStrings(file), "a section past the end of the file");
            file.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) 0x9feb);
            assertNull(KernelBtf.mappedStrings(file), "big-endian or not BTF");
        }
    }
}
