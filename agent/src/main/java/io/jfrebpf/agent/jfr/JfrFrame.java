package io.jfrebpf.agent.jfr;

/**
 * One frame of a stack as JFR's {@code jdk.types.StackFrame}: a Java method (binary class name,
 * method, descriptor, line, bci), or a native/kernel function, whose "class" is its module
 * ({@code libc.so.6}, {@code kernel}, {@code hotspot}). Type: Interpreted, JIT compiled, Inlined, Native, Kernel.
 */
public record JfrFrame(String className, String methodName, String descriptor, int lineNumber, int bytecodeIndex,
        String type) {
}
