package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jfrebpf.agent.jfr.JfrStack;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Stacks are cached by their kernel keys and forgotten after a while (compiled code and methods
 * can be freed and reused); a user stack the kernel map no longer had is not cached. Without
 * maps, how often the symbolizer went to them is what its lookup counter tells.
 */
class SymbolizerCacheTest {
    @Test
    void aStackIsLookedUpOnceWhileItsNameIsFresh() {
        try (StackMaps maps = new StackMaps()) {
            Symbolizer s = new Symbolizer(maps, null, null, Long.MAX_VALUE);
            JfrStack first = s.stack(0, 7);
            assertEquals(first, s.stack(0, 7));
            assertEquals(1, s.stats().mapLookups(), "looked up again although cached");
            assertEquals(2, s.stats().stacks());
        }
    }

    @Test
    void namesAreForgottenAfterTheirTime() {
        try (StackMaps maps = new StackMaps()) {
            Symbolizer s = new Symbolizer(maps, null, null, 0);
            s.stack(0, 7);
            s.stack(0, 7);
            assertEquals(2, s.stats().mapLookups(), "a forgotten stack is looked up again");
        }
    }

    @Test
    void aLostUserStackIsLookedUpAgain() {
        try (StackMaps maps = new StackMaps()) {
            Symbolizer s = new Symbolizer(maps, null, null, Long.MAX_VALUE);
            assertEquals("[stack lost]", s.stack(42, -1).frames().get(0).methodName());
            s.stack(42, -1);
            assertEquals(2, s.stats().stacksLost());
            assertEquals(2, s.stats().mapLookups());
        }
    }

    /** A kernel of three functions, the second the trampoline that runs tracepoint programs. */
    static KernelSymbols kernel() {
        String text = """
                ffffffff81000000 T do_sys_openat2
                ffffffff81001000 t bpf_trace_run2
                ffffffff81002000 T __x64_sys_openat
                """;
        return KernelSymbols.load(Channels.newChannel(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII))), "a made kallsyms");
    }

    @Test
    void kallsymsIsReadForTheFirstKernelFrameOnly() {
        try (StackMaps maps = new StackMaps()) {
            int[] reads = {0};
            Symbolizer s = new Symbolizer(maps, null, null, Long.MAX_VALUE, () -> {
                reads[0]++;
                return kernel();
            });
            s.stack(42, -1);
            assertEquals(0, reads[0], "a user stack needs no kernel symbols");
            s.stack(0, new long[] {0xffffffff81000010L});
            s.stack(0, new long[] {0xffffffff81002010L});
            assertEquals(1, reads[0]);
        }
    }

    @Test
    void anEventWithoutStacksHasNone() {
        try (StackMaps maps = new StackMaps()) {
            assertNull(new Symbolizer(maps, null, null).stack(0, -1));
        }
    }
}
