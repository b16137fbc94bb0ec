package io.jfrebpf.events.read;

import java.util.List;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;

/**
 * A stack as jdk.jfr.consumer reads it, as the reader library's plain frame data: for the readers
 * that use the JDK's parser (the converter, the JUnit extension). Not in the JMC plugin's bundle,
 * whose framework gives it no jdk.jfr.
 */
public final class RecordedStacks implements StackFrames {
    private final List<RecordedFrame> frames;
    private final boolean truncated;

    private RecordedStacks(RecordedStackTrace stack) {
        this.frames = stack.getFrames();
        this.truncated = stack.isTruncated();
    }

    /** The stack's frames; null for an event without a stack. */
    public static RecordedStacks of(RecordedStackTrace stack) {
        return stack == null ? null : new RecordedStacks(stack);
    }

    @Override
    public int count() {
        return frames.size();
    }

    @Override
    public String typeName(int i) {
        RecordedMethod m = frames.get(i).getMethod();
        return m == null || m.getType() == null ? null : m.getType().getName();
    }

    @Override
    public String methodName(int i) {
        RecordedMethod m = frames.get(i).getMethod();
        return m == null ? null : m.getName();
    }

    @Override
    public int lineNumber(int i) {
        return frames.get(i).getLineNumber();
    }

    @Override
    public boolean isJava(int i) {
        // RecordedFrame.isJavaFrame() is true for every frame of ours: the type says which are Java code
        return FrameTypes.isJava(frames.get(i).getType()) && frames.get(i).getMethod() != null;
    }

    @Override
    public boolean truncated() {
        return truncated;
    }
}
