package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The start-up warning of a JVM whose stacks depend on frame pointers, as a user reads it: the
 * agent logs it without arguments, so it is printed as it stands, and a stack is printed innermost
 * first, so what a walk that stops at a JIT frame loses is that frame's callers (below it).
 */
class FramePointerWarningTest {
    @Test
    void theWarningReadsAsPrintedAndSaysTheCallersAreLost() {
        String text = JvmStacks.WITHOUT_FRAME_POINTERS;
        assertFalse(text.contains("%%"), "no format escape in a line printed as it stands: " + text);
        assertTrue(text.contains("% CPU"), text);
        assertTrue(text.contains("callers are lost"), text);
        assertFalse(text.contains("above"), "frames above a frame are its callees in a stack printed innermost first: " + text);
        assertTrue(text.contains("-XX:+PreserveFramePointer for whole stacks"), "says what to do: " + text);
    }
}
