package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MallocProbeTest {
    private static byte[] code(int... bytes) {
        byte[] b = new byte[12];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return b;
    }

    /** glibc 2.36's free: test rdi,rdi; je rel32; push rbp — the probe goes on the push. */
    @Test
    void freeIsProbedOnTheFirstEmulatedInstruction() {
        assertEquals(9, MallocProbe.cheapFreeOffset(code(0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0, 0, 0, 0x55)));
        assertEquals(5, MallocProbe.cheapFreeOffset(code(0x48, 0x85, 0xff, 0x74, 0x20, 0x53)), "je rel8; push rbx");
        assertEquals(5, MallocProbe.cheapFreeOffset(code(0x48, 0x85, 0xff, 0x74, 0x20, 0x41, 0x54)), "push r12");
    }

    @Test
    void anythingElseIsProbedAtTheEntry() {
        assertEquals(0, MallocProbe.cheapFreeOffset(code(0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff)), "endbr64 first");
        assertEquals(0, MallocProbe.cheapFreeOffset(code(0x48, 0x85, 0xff, 0x0f, 0x84, 0, 0, 0, 0, 0x48, 0x89, 0xe5)),
                "not a push after the branch");
        assertEquals(0, MallocProbe.cheapFreeOffset(code(0x55, 0x48, 0x89, 0xe5)), "a push at the entry: emulated already");
    }

    static final long S = 1_000_000_000L;

    /** The leak report's age fits the recording: a 4 s capture counts what is 2 s old, a long one what is 10 s old. */
    @Test
    void theDefaultAgeIsTenSecondsOrHalfTheTimeTraced() {
        assertEquals(2 * S, MallocProbe.minimumAgeNs(Optional.empty(), 4 * S));
        assertEquals(10 * S, MallocProbe.minimumAgeNs(Optional.empty(), 20 * S));
        assertEquals(10 * S, MallocProbe.minimumAgeNs(Optional.empty(), 3600 * S));
        assertEquals(0, MallocProbe.minimumAgeNs(Optional.empty(), -1), "a clock read before the attach");
    }

    @Test
    void aGivenAgeIsKept() {
        assertEquals(30 * S, MallocProbe.minimumAgeNs(Optional.of(Duration.ofSeconds(30)), 4 * S));
        assertEquals(0, MallocProbe.minimumAgeNs(Optional.of(Duration.ZERO), 4 * S));
    }
}
