package io.jfrebpf.agent.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.os.ProcMaps;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The path a BPF program follows to a thread's frame anchor (bpf/stack.bpf.h), in this very JVM:
 * found from the dynamic linker, VMStructs and the thread's own TLS block, and checked (by find) to lead
 * from a thread's control block to that thread's own JavaThread — on two different threads, since
 * each has its own TLS block.
 */
class FrameAnchorsTest {
    static VmStructs vm() {
        return VmStructs.load().orElseThrow(() -> new AssertionError("VMStructs of this JVM not readable"));
    }

    /** The offset found in the thread's own TLS block is the one libjvm's symbol table gives (readelf). */
    @Test
    void theOffsetFoundIsThatOfThreadCurrentInLibjvmsSymbolTable() throws Exception {
        Process p = new ProcessBuilder("readelf", "-sW", ProcMaps.self().libjvm().orElseThrow().toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out.length() > 2000 ? out.substring(0, 2000) : out);
        Matcher m = Pattern.compile("(?m)^\\s*\\d+: ([0-9a-f]+)\\s+8 TLS\\s+\\S+\\s+\\S+\\s+\\S+ _ZN6Thread12_thr_currentE$").matcher(out);
        assertTrue(m.find(), "Temurin's libjvm keeps its .symtab: Thread::_thr_current is in it");
        FrameAnchors a = FrameAnchors.find(vm()).orElseThrow(() -> new AssertionError("no frame anchors (see the log)"));
        assertEquals(Long.parseLong(m.group(1), 16), a.tlsOffset());
    }

    @Test
    void foundAndCheckedOnThisThreadAndAnother() throws Exception {
        FrameAnchors here = FrameAnchors.find(vm()).orElseThrow(() -> new AssertionError("no frame anchors (see the log)"));
        assertTrue(here.tlsModule() >= 1, "libjvm's TLS module id: " + here.tlsModule());
        assertTrue(here.anchorOffset() > 0 && here.stateOffset() > 0 && here.stackBaseOffset() > 0, here.toString());
        assertTrue(here.windowSize() <= FrameAnchors.MAX_WINDOW && here.windowOffset() % 8 == 0, "one read of the fields: "
                + here.windowOffset() + " + " + here.windowSize());
        int inNative = vm().requireConstant("_thread_in_native");
        int inJava = vm().requireConstant("_thread_in_Java");
        int blocked = vm().requireConstant("_thread_blocked");
        assertNotEquals(0, here.anchorStates() & (1L << inNative), "native has an anchor");
        assertNotEquals(0, here.anchorStates() & (1L << blocked), "blocked has an anchor");
        assertNotEquals(0, here.anchorStates() & (1L << inJava), "a runtime stub's call into the VM has one in Java");
        assertEquals(0, here.anchorStates() & (1L << vm().requireConstant("_thread_new")), "a new thread has none");

        AtomicReference<Optional<FrameAnchors>> there = new AtomicReference<>();
        Thread other = new Thread(() -> there.set(FrameAnchors.find(vm())), "other");
        other.start();
        other.join();
        assertEquals(Optional.of(here), there.get(), "the same module and offsets from another thread's TLS block");
    }
}
