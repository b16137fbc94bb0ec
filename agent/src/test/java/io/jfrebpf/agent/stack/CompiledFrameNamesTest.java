package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jvm.CodeCache;
import io.jfrebpf.agent.jvm.JavaMethods;
import io.jfrebpf.agent.jvm.VmStructs;
import io.jfrebpf.events.read.FrameTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A compiled frame is named by the nmethod the kernel's walk found at its pc, which its compile id
 * tells: in this very JVM, a pc of each of its nmethods is named as that nmethod's methods with
 * the nmethod's own compile id, and as freed code with any other one (the nmethod the walk saw
 * is gone, the code there is another's), whichever was asked first, and also with the compile id
 * of another nmethod that was named before (what is remembered of a compilation covers its code only).
 */
class CompiledFrameNamesTest {
    static CodeCache code;
    static JavaMethods methods;

    @BeforeAll
    static void readThisJvm() {
        VmStructs vm = VmStructs.load().orElseThrow(() -> new AssertionError("VMStructs of this JVM not readable"));
        code = CodeCache.load(vm).orElseThrow();
        methods = JavaMethods.load(vm).orElseThrow();
    }

    /** Up to n nmethods of this JVM's code heaps, found by looking at a pc every 4 KiB. */
    static List<CodeCache.Blob> nmethods(int n) {
        List<CodeCache.Blob> found = new ArrayList<>();
        for (CodeCache.HeapBounds h : code.heapBounds()) {
            for (long pc = h.low(); pc < h.high() && found.size() < n; pc += 4096) {
                Optional<CodeCache.Blob> b = code.blobAt(pc);
                if (b.isPresent() && b.get().isNMethod() && (found.isEmpty() || found.get(found.size() - 1).address() != b.get().address())) {
                    found.add(b.get());
                }
            }
        }
        return found;
    }

    static List<JfrFrame> innermost(Symbolizer s, long pc, int compileId) {
        return s.frames(new UserStack(new long[] {pc}, new long[] {0}, new int[] {compileId}, new boolean[1], false, false, false, false));
    }

    static boolean freed(List<JfrFrame> frames) {
        return frames.size() == 1 && frames.get(0).methodName().equals(Symbolizer.FREED_CODE)
                && frames.get(0).className().equals(Symbolizer.JVM_CODE) && frames.get(0).type().equals(FrameTypes.NATIVE);
    }

    @Test
    void aPcIsNamedByTheCompilationTheWalkSawThere() {
        List<CodeCache.Blob> nms = nmethods(40);
        assertTrue(nms.size() >= 10, "nmethods found in this JVM: " + nms.size());
        Symbolizer s = new Symbolizer(new StackMaps(code, null, null, 0, new long[0]), code, methods);
        int named = 0;
        int java = 0;
        for (CodeCache.Blob nm : nms) {
            long pc = nm.codeBegin() + (nm.end() - nm.codeBegin()) / 4;
            // another compilation first: a pc cached under it must not name the real one, nor the other way round
            assertTrue(freed(innermost(s, pc, nm.compileId() + 1)), () -> "compile id " + (nm.compileId() + 1) + " at " + nm);
            List<JfrFrame> own = innermost(s, pc, nm.compileId());
            if (!freed(own)) {
                named++;
                java += own.stream().anyMatch(f -> FrameTypes.isJava(f.type())) ? 1 : 0;
            }
            assertTrue(freed(innermost(s, pc, nm.compileId() + 2)));
            assertEquals(own.stream().map(JfrFrame::methodName).toList(), innermost(s, pc, UserStack.NO_COMPILE_ID).stream()
                    .map(JfrFrame::methodName).toList(), "a frame with no compile id (a walk that knows no blobs) by what is there");
        }
        // a pc with the compile id of another nmethod named before (what is remembered of it is of other code)
        for (int i = 1; i < nms.size(); i++) {
            CodeCache.Blob nm = nms.get(i);
            int other = nms.get(i - 1).compileId();
            long pc = nm.codeBegin() + (nm.end() - nm.codeBegin()) / 2;
            assertTrue(freed(innermost(s, pc, other)), () -> "compile id " + other + " at " + nm);
        }
        // an nmethod can be freed while the test runs (then it is freed code, rightly): not most of them
        assertTrue(named >= nms.size() * 3 / 4, named + " of " + nms.size() + " nmethods named");
        // a method handle intrinsic's nmethod ("native nmethod") has a Method* of no class's constant pool: named by its blob
        assertTrue(java >= named / 2, java + " of " + named + " nmethods named as Java methods");
        assertNotEquals(0, s.stats().unresolvedFrames(), "freed code counts as unresolved");
    }
}
