package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What {@link KernelNames} takes from a {@code %pS}, and what it refuses to guess from. */
class KernelNamesTest {
    private static final long PC = 0xffffffff81234567L;

    private static String[] parse(String text, int length) {
        byte[] b = new byte[160];
        byte[] t = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, b, 0, Math.min(t.length, b.length));
        long[] starts = {42};
        String[] names = {"stale"};
        KernelNames.parse(PC, b, length, starts, names, 0);
        return new String[] {names[0], Long.toHexString(starts[0])};
    }

    private static String[] parse(String text) {
        return parse(text, text.length() + 1);
    }

    @Test
    void aFunctionAndItsStart() {
        assertEquals("schedule", parse("schedule+0x4c/0x1a0")[0]);
        assertEquals(Long.toHexString(PC - 0x4c), parse("schedule+0x4c/0x1a0")[1]);
        assertEquals(Long.toHexString(PC), parse("do_idle+0x0/0x2b0")[1]);
        assertEquals("__x64_sys_futex", parse("__x64_sys_futex+0x12/0x1e0")[0]);
    }

    @Test
    void suffixesOfTheCompilerAndModulesStayOrGo() {
        assertEquals("tcp_rcv.constprop.0", parse("tcp_rcv.constprop.0+0x10/0x90")[0]);
        assertEquals("nf_hook_slow", parse("nf_hook_slow+0x3c/0xb0 [nf_tables]")[0]);
        assertEquals("bpf_prog_3bfcdba2637ca399_cpu_sample", parse("bpf_prog_3bfcdba2637ca399_cpu_sample+0x25/0x3a8")[0]);
    }

    @Test
    void noSymbolNoFailureNoCutNameIsAGuess() {
        assertNull(parse("0xffffffff81234567")[0], "no symbol holds it: the kernel prints the address");
        assertEquals("0", parse("0xffffffff81234567")[1]);
        assertNull(parse("", -22)[0], "bpf_snprintf failed");
        assertNull(parse("", 1)[0], "empty");
        assertNull(parse("a_very_long_name+0x4c/0x1a0", 161)[0], "cut at the buffer's end");
        assertNull(parse("schedule+0x4c")[0], "no size");
        assertNull(parse("schedule+0x/0x10")[0], "no offset digits");
        assertNull(parse("schedule+0xzz/0x10")[0], "not hex");
        assertNull(parse("+0x4c/0x1a0")[0], "no name");
        assertNull(parse("sche dule+0x4c/0x1a0")[0], "a space before the offset");
        assertNull(parse("schedule+0xffffffffffffffffff/0x1a0")[0], "an offset past 64 bits");
        assertNull(parse("schedule+0xffffffff91234567/0x1a0")[0], "an offset past the pc");
    }
}
