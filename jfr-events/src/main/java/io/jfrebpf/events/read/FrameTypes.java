package io.jfrebpf.events.read;

import java.util.Set;

/**
 * The frame types of the catalog's stacks, as jdk.jfr names them: Java frames are
 * {@code Interpreted}, {@code JIT compiled} or {@code Inlined} (and the JVM's own recordings say
 * {@code C1 compiled} too); native frames {@code Native}, kernel frames {@code Kernel}.
 */
public final class FrameTypes {
    public static final String INTERPRETED = "Interpreted";
    public static final String JIT_COMPILED = "JIT compiled";
    public static final String INLINED = "Inlined";
    public static final String C1_COMPILED = "C1 compiled";
    public static final String NATIVE = "Native";
    public static final String KERNEL = "Kernel";

    /** The types of frames that run Java code. */
    public static final Set<String> JAVA = Set.of(INTERPRETED, JIT_COMPILED, INLINED, C1_COMPILED);

    private FrameTypes() {
    }

    /** Whether a frame of this type (its jdk.jfr name) runs Java code. */
    public static boolean isJava(String frameType) {
        return frameType != null && JAVA.contains(frameType);
    }
}
