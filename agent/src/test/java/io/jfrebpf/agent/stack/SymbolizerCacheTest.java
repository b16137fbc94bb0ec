package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jfrebpf.agent.jfr.JfrStack;
import org.junit.jupiter.api.Test;

/**
 * Stacks are cached by their kernel keys, and forgotten after a while (compiled code and methods
 * can be freed and reused). Without maps every user stack is "lost": how often the symbolizer
 * went to the maps is what the lost counter tells.
 */
class SymbolizerCacheTest {
    @Test
    void aStackIsLookedUpOnceWhileItsNameIsFresh() {
        try (StackMaps maps = new StackMaps(0, 0)) {
            Symbolizer s = new Symbolizer(maps, null, null, Long.MAX_VALUE);
            JfrStack first = s.stack(42, -1);
            JfrStack second = s.stack(42, -1);
            assertEquals(first, second);
            assertEquals("[stack lost]", first.frames().get(0).methodName());
            assertEquals(1, s.stats().stacksLost(), "looked up again although cached");
            assertEquals(2, s.stats().stacks());
        }
    }

    @Test
    void namesAreForgottenAfterTheirTime() {
        try (StackMaps maps = new StackMaps(0, 0)) {
            Symbolizer s = new Symbolizer(maps, null, null, 0);
            s.stack(42, -1);
            s.stack(42, -1);
            assertEquals(2, s.stats().stacksLost(), "a forgotten stack is looked up again");
        }
    }

    @Test
    void anEventWithoutStacksHasNone() {
        try (StackMaps maps = new StackMaps(0, 0)) {
            assertNull(new Symbolizer(maps, null, null).stack(0, -1));
        }
    }
}
