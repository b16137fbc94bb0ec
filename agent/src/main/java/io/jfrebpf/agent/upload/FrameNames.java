package io.jfrebpf.agent.upload;

import io.jfrebpf.agent.jfr.JfrFrame;
import java.util.regex.Pattern;

/**
 * A frame's function name in the profiles sent to Pyroscope, as Pyroscope names the frames of
 * its own Java profiles (grafana/jfr-parser: pprof/pprof.go builds {@code class + "." + method}
 * from the class's internal name, parser/symbols.go merges generated classes): Java frames are
 * {@code java/lang/Thread.run}, with the numbered part of lambda classes, reflection accessors and
 * CGLIB proxies replaced by {@code _}, so that the same code is one function from one JVM to the
 * next; native frames are their symbol; kernel frames their symbol with {@code _[k]}, as
 * async-profiler marks them.
 */
final class FrameNames {
    private static final Pattern LAMBDA = Pattern.compile("^(.+\\$\\$Lambda)(\\$?\\d*[./](0x)?[\\da-f]+|\\d+)$");
    private static final Pattern ACCESSOR = Pattern.compile("^(jdk/internal/reflect/GeneratedMethodAccessor)(\\d+)$");
    private static final Pattern CGLIB = Pattern.compile("^(.+\\$\\$EnhancerBySpringCGLIB\\$\\$)(.*)$");

    private FrameNames() {
    }

    static String of(JfrFrame f) {
        String method = f.methodName() == null || f.methodName().isEmpty() ? "[unknown]" : f.methodName();
        if ("Kernel".equals(f.type())) {
            return method + "_[k]";
        }
        if ("Native".equals(f.type()) || f.className() == null || f.className().isEmpty()) {
            return method;
        }
        return javaClass(f.className()) + "." + method;
    }

    /** The internal name of a binary class name, generated parts merged. */
    static String javaClass(String binaryName) {
        String c = binaryName.replace('.', '/');
        c = LAMBDA.matcher(c).replaceAll("$1_");
        c = ACCESSOR.matcher(c).replaceAll("$1_");
        return CGLIB.matcher(c).replaceAll("$1_");
    }
}
