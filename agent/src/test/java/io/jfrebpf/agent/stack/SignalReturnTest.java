package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.os.ProcMaps;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** This JVM's signal trampoline, found without privileges: the frame the kernel's walk steps over into a signal frame. */
class SignalReturnTest {
    @Test
    void theTrampolineOfThisJvmsHandlersIsLibcs() {
        OptionalLong at = SignalReturn.find();
        assertTrue(at.isPresent(), "HotSpot installs its SIGSEGV handler through glibc, with glibc's restorer");
        long pc = at.getAsLong();
        assertTrue(ProcMaps.self().mappings().stream().anyMatch(m -> m.path().contains("/libc.so") && m.perms().contains("x")
                && Long.compareUnsigned(pc, m.start()) >= 0 && Long.compareUnsigned(pc, m.end()) < 0),
                "in libc's code: 0x" + Long.toHexString(pc));
    }
}
