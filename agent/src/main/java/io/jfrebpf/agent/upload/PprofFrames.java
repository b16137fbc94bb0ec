package io.jfrebpf.agent.upload;

import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.events.read.pprof.Pprof;
import java.util.ArrayList;
import java.util.List;

/** The agent's stacks as the reader library's pprof frames ({@link Pprof.Frame#of}): innermost first, as pprof wants. */
final class PprofFrames {
    private PprofFrames() {
    }

    static List<Pprof.Frame> of(JfrStack stack) {
        List<Pprof.Frame> frames = new ArrayList<>(stack.frames().size());
        for (JfrFrame f : stack.frames()) {
            frames.add(Pprof.Frame.of(f.type(), f.className(), f.methodName(), f.lineNumber()));
        }
        return frames;
    }
}
