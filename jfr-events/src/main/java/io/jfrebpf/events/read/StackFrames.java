package io.jfrebpf.events.read;

/**
 * One stack trace as plain frame data, innermost frame first: what the call-site logic reads,
 * whatever parser produced the stack (jdk.jfr.consumer for the converter and the JUnit extension,
 * JMC's IItem API for the rules). Each consumer adapts its own frames to this.
 */
public interface StackFrames {
    /** The number of frames. */
    int count();

    /**
     * Frame {@code i}'s type: the class of a Java frame ({@code com.example.Repository}); of a
     * native frame the library ({@code libc.so.6}), of a kernel frame {@code kernel}, as the agent
     * writes them.
     */
    String typeName(int i);

    /** Frame {@code i}'s method, or the symbol of a native or kernel frame. */
    String methodName(int i);

    /** Frame {@code i}'s line number; zero or less when unknown. */
    int lineNumber(int i);

    /** Whether frame {@code i} runs Java code (interpreted, compiled or inlined; {@link FrameTypes}). */
    boolean isJava(int i);

    /** Whether the stack was cut at the depth limit: it was deeper than the frames kept. */
    boolean truncated();
}
