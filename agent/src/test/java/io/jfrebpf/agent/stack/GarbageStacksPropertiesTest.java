package io.jfrebpf.agent.stack;

import io.jfrebpf.events.read.FrameTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jvm.CodeCache;
import io.jfrebpf.agent.jvm.JavaMethods;
import io.jfrebpf.agent.jvm.VmStructs;
import io.jfrebpf.agent.os.ProcMaps;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Symbolization reads JVM memory the kernel pointed at, after the fact: the pointers can be stale
 * or garbage. Fed random and near-miss pointers — into the code cache, the interpreter, libjvm,
 * the heap, nowhere — in this very JVM, it must answer with unresolved frames and never crash
 * the process or throw (a crash here would end the test run).
 */
class GarbageStacksPropertiesTest {
    static CodeCache code;
    static JavaMethods methods;
    static Symbolizer symbolizer;
    static long[] anchors;

    @BeforeContainer
    static void readThisJvm() {
        VmStructs vm = VmStructs.load().orElseThrow(() -> new AssertionError("VMStructs of this JVM not readable"));
        code = CodeCache.load(vm).orElseThrow();
        methods = JavaMethods.load(vm).orElseThrow();
        symbolizer = new Symbolizer(new StackMaps(code, null, null, 0, new long[0]), code, methods);
        ProcMaps.Mapping jvm = ProcMaps.self().mappings().stream().filter(m -> m.path().endsWith("libjvm.so"))
                .findFirst().orElseThrow();
        anchors = new long[] {code.interpreterStart(), code.interpreterEnd(), jvm.start(), jvm.end(),
            System.identityHashCode(new Object()), 0x7f0000000000L, 0xffffffff81000000L, 8, 0};
    }

    @Provide
    Arbitrary<Long> pointers() {
        Arbitrary<Long> near = Arbitraries.of(anchors.length > 0 ? box(anchors) : new Long[] {0L})
                .flatMap(a -> Arbitraries.longs().between(-65_536, 1 << 20).map(d -> a + d));
        return Arbitraries.oneOf(near, Arbitraries.longs(), Arbitraries.of(0L, -1L, 1L, Long.MAX_VALUE, Long.MIN_VALUE));
    }

    private static Long[] box(long[] a) {
        Long[] b = new Long[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    @Property
    void garbageMethodPointersResolveToNothing(@ForAll("pointers") long method) {
        // an arbitrary address is not a Method* whose holder's constant pool points back at it
        assertTrue(methods.method(method).isEmpty(), () -> "0x" + Long.toHexString(method) + " read as " + methods.method(method));
    }

    @Property
    void garbagePcsGiveUnresolvedOrStubFrames(@ForAll("pointers") long pc) {
        code.blobAt(pc).ifPresent(b -> code.scopesAt(b, pc));
        List<JfrFrame> frames = symbolizer.frames(new UserStack(new long[] {pc}, new long[] {0}, new int[] {UserStack.NO_COMPILE_ID}, new boolean[1], false, false, false, false));
        assertFalse(frames.isEmpty());
        for (JfrFrame f : frames) {
            assertFalse(f.methodName().isEmpty() || f.className().isEmpty(), f.toString());
        }
    }

    @Property
    void garbageInterpretedFramesAreNamedInterpreter(@ForAll("pointers") long method, @ForAll("pointers") long bcp) {
        List<JfrFrame> frames = symbolizer.frames(new UserStack(new long[] {method}, new long[] {bcp == 0 ? -1 : bcp}, new int[] {UserStack.NO_COMPILE_ID}, new boolean[1], false, false, false, false));
        assertEquals(1, frames.size());
        assertEquals(FrameTypes.INTERPRETED, frames.get(0).type());
    }

    @Property
    void interpreterPcsAreTheInterpreterBlob(@ForAll("offsets") long offset) {
        long pc = code.interpreterStart() + offset;
        assertTrue(code.inInterpreter(pc));
        assertEquals("Interpreter", code.blobAt(pc).orElseThrow().name());
    }

    @Provide
    Arbitrary<Long> offsets() {
        return Arbitraries.longs().between(0, Math.max(0, code.interpreterEnd() - code.interpreterStart() - 1));
    }
}
