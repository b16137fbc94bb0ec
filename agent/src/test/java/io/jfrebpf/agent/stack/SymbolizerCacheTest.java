package io.jfrebpf.agent.stack;

import io.jfrebpf.events.read.FrameTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jfr.JfrStack;
import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.List;
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

    /** Bytes this thread allocated while it ran r. */
    static long allocated(Runnable r) {
        var bean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = bean.getCurrentThreadAllocatedBytes();
        r.run();
        return bean.getCurrentThreadAllocatedBytes() - before;
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
    void kernelFramesAfterTheTrampolineWithUnresolvedOnesCounted() {
        try (StackMaps maps = new StackMaps()) {
            Symbolizer s = new Symbolizer(maps, null, null, Long.MAX_VALUE, SymbolizerCacheTest::kernel);
            // the tracepoint's program (loaded after kallsyms was read: no name), its trampoline, the event's path
            JfrStack st = s.stack(0, new long[] {0xffffffffa0000010L, 0xffffffff81001010L, 0xffffffff81000010L, 0xffffffff81002010L, 0x10});
            assertEquals(List.of("do_sys_openat2", "__x64_sys_openat", "0x10"), st.frames().stream().map(JfrFrame::methodName).toList());
            assertTrue(st.frames().stream().allMatch(f -> f.type().equals(FrameTypes.KERNEL) && f.className().equals(Symbolizer.KERNEL_MODULE)));
            assertEquals(1, s.stats().unresolvedFrames(), "the program's frame is cut, not counted");
            assertEquals(3, s.stats().kernelFrames());
            JfrStack other = s.stack(0, new long[] {0xffffffff81000020L, 0xffffffffa0000010L});
            assertSame(st.frames().get(0), other.frames().get(0), "one frame object for every pc of a function");
            assertEquals("0xffffffffa0000010", other.frames().get(1).methodName(), "not cut when no trampoline ran it");
            assertEquals(2, s.stats().unresolvedFrames());
        }
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
    void aCachedStackCostsNoAllocation() {
        try (StackMaps maps = new StackMaps()) {
            Symbolizer s = new Symbolizer(maps, null, null, Long.MAX_VALUE, SymbolizerCacheTest::kernel);
            long[] kernel = {0xffffffff81000010L, 0xffffffff81002010L};
            long[] same = kernel.clone();
            JfrStack byId = s.stack(0, 7);
            JfrStack byPcs = s.stack(0, kernel);
            assertEquals("do_sys_openat2", byPcs.frames().get(0).methodName());
            allocated(() -> s.stack(0, 7)); // the measuring itself warmed up
            long bytes = allocated(() -> {
                for (int i = 0; i < 10_000; i++) {
                    if (s.stack(0, 7) != byId || s.stack(0, same) != byPcs) {
                        throw new AssertionError("not the cached stack");
                    }
                }
            });
            assertTrue(bytes < 1024, bytes + " bytes allocated for 20,000 cached stacks");
        }
    }

    @Test
    void anEventWithoutStacksHasNone() {
        try (StackMaps maps = new StackMaps()) {
            assertNull(new Symbolizer(maps, null, null).stack(0, -1));
        }
    }
}
