package io.jfrebpf.events.read;

import java.util.regex.Pattern;

/**
 * A frame's name in a profile, one rule for every output, in two spellings. What the two share:
 * a kernel frame is its symbol with {@code _[k]} (as async-profiler marks them), a native frame
 * its symbol, a Java frame {@code class.method}, a frame without a method {@code [unknown]}.
 * Where they differ, each follows the viewer its output is read in:
 *
 * <ul>
 * <li>{@link #flameGraph} (the converter's flame graphs and folded stacks, async-profiler's
 *     converter): the binary class name, and a suffix for how the Java frame ran ({@code _[0]}
 *     interpreted, {@code _[j]} JIT compiled, {@code _[i]} inlined, {@code _[1]} C1 compiled),
 *     which the flame graph colours;
 * <li>{@link #pprof} (the profiles sent to Pyroscope), as Pyroscope names the frames of its own
 *     Java profiles (grafana/jfr-parser: pprof/pprof.go builds {@code class + "." + method} from
 *     the class's internal name, parser/symbols.go merges generated classes): {@code
 *     java/lang/Thread.run}, with the numbered part of lambda classes, reflection accessors and
 *     CGLIB proxies replaced by {@code _}, so that the same code is one function from one JVM to
 *     the next; no suffix (pprof keeps one function per name).
 * </ul>
 *
 * Frame types are jdk.jfr's ({@link FrameTypes}); the class is null or empty for frames without one.
 */
public final class FrameNames {
    /** The name of a frame whose method is not known. */
    public static final String UNKNOWN = "[unknown]";
    /** What marks a kernel frame. */
    public static final String KERNEL_SUFFIX = "_[k]";

    private static final Pattern LAMBDA = Pattern.compile("^(.+\\$\\$Lambda)(\\$?\\d*[./](0x)?[\\da-f]+|\\d+)$");
    private static final Pattern ACCESSOR = Pattern.compile("^(jdk/internal/reflect/GeneratedMethodAccessor)(\\d+)$");
    private static final Pattern CGLIB = Pattern.compile("^(.+\\$\\$EnhancerBySpringCGLIB\\$\\$)(.*)$");

    private FrameNames() {
    }

    /** The frame as a flame graph shows it: {@code com.example.Shop.checkout_[j]}, {@code do_sys_openat2_[k]}. */
    public static String flameGraph(String frameType, String className, String method) {
        String name = name(frameType, className, method, false);
        if (name != null) {
            return name;
        }
        return javaName(className, method) + switch (frameType == null ? "" : frameType) {
            case FrameTypes.INTERPRETED -> "_[0]";
            case FrameTypes.JIT_COMPILED -> "_[j]";
            case FrameTypes.INLINED -> "_[i]";
            case FrameTypes.C1_COMPILED -> "_[1]";
            default -> "";
        };
    }

    /** The frame as Pyroscope names it: {@code com/example/Shop.checkout}, {@code do_sys_openat2_[k]}. */
    public static String pprof(String frameType, String className, String method) {
        String name = name(frameType, className, method, true);
        return name != null ? name : javaName(pyroscopeClass(className), method);
    }

    /** The internal name of a binary class name, generated parts merged, as Pyroscope has it. */
    public static String pyroscopeClass(String binaryName) {
        String c = binaryName.replace('.', '/');
        c = LAMBDA.matcher(c).replaceAll("$1_");
        c = ACCESSOR.matcher(c).replaceAll("$1_");
        return CGLIB.matcher(c).replaceAll("$1_");
    }

    /** The name of a kernel or native frame (of a frame without a class, in pprof), null for a Java frame. */
    private static String name(String frameType, String className, String method, boolean pprof) {
        String symbol = method(method);
        if (FrameTypes.KERNEL.equals(frameType)) {
            return symbol + KERNEL_SUFFIX;
        }
        if (FrameTypes.NATIVE.equals(frameType) || pprof && noClass(className)) {
            return symbol;
        }
        return null;
    }

    private static String javaName(String className, String method) {
        return noClass(className) ? method(method) : className + "." + method(method);
    }

    private static boolean noClass(String className) {
        return className == null || className.isEmpty();
    }

    private static String method(String method) {
        return method == null || method.isEmpty() ? UNKNOWN : method;
    }
}
