package io.jfrebpf.agent.jvm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The layout of this JVM's stack chunks, from libjvm's statics, and how its heap keeps oops (the IT walks them under each GC). */
class StackChunksTest {
    @Test
    void thisJvmsChunksAreReadableWithTheOopsItsHeapKeeps() {
        StackChunks chunks = StackChunks.find(VmStructs.load().orElseThrow());
        assertTrue(chunks.known(), chunks.describe());
        var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        String expected = Boolean.parseBoolean(bean.getVMOption("UseZGC").getValue()) ? "(ZGC's coloured oops"
                : Boolean.parseBoolean(bean.getVMOption("UseCompressedOops").getValue()) ? "(compressed oops" : "(64-bit oops";
        assertTrue(chunks.describe().contains(expected), expected + ": " + chunks.describe());
    }
}
