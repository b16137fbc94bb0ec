package io.jfrebpf.jmc;

import io.jfrebpf.events.read.FrameTypes;
import io.jfrebpf.events.read.StackFrames;
import java.util.List;
import java.util.Set;
import org.openjdk.jmc.common.IMCFrame;
import org.openjdk.jmc.common.IMCMethod;
import org.openjdk.jmc.common.IMCStackTrace;

/** A stack as JMC's parser gives it, as the reader library's plain frame data. */
final class JmcFrames implements StackFrames {
    /** JMC's types of frames that run Java code (JMC's parser keeps a type it has no constant for, "C1 compiled", by name). */
    static final Set<IMCFrame.Type> JAVA = Set.of(IMCFrame.Type.INTERPRETED, IMCFrame.Type.JIT_COMPILED, IMCFrame.Type.INLINED,
            IMCFrame.Type.cachedType(FrameTypes.C1_COMPILED));

    private final IMCStackTrace stack;
    private final List<? extends IMCFrame> frames;

    JmcFrames(IMCStackTrace stack) {
        this.stack = stack;
        this.frames = stack.getFrames();
    }

    @Override
    public int count() {
        return frames.size();
    }

    @Override
    public String typeName(int i) {
        IMCMethod m = frames.get(i).getMethod();
        return m == null || m.getType() == null ? null : m.getType().getFullName();
    }

    @Override
    public String methodName(int i) {
        IMCMethod m = frames.get(i).getMethod();
        return m == null ? null : m.getMethodName();
    }

    @Override
    public int lineNumber(int i) {
        Integer line = frames.get(i).getFrameLineNumber();
        return line == null ? 0 : line;
    }

    @Override
    public boolean isJava(int i) {
        return JAVA.contains(frames.get(i).getType()) && frames.get(i).getMethod() != null;
    }

    @Override
    public boolean truncated() {
        return stack.getTruncationState() != null && stack.getTruncationState().isTruncated();
    }
}
