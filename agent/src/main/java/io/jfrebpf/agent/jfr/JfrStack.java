package io.jfrebpf.agent.jfr;

import java.util.List;

/** A stack trace, innermost frame first; truncated when the walk stopped before the bottom. */
public record JfrStack(List<JfrFrame> frames, boolean truncated) {
}
