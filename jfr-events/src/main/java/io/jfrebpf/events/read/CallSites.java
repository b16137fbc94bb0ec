package io.jfrebpf.events.read;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The code behind an event: the innermost Java frame of the application's own code, not of the
 * JDK, a connection pool, a driver or a framework. A statement sent through HikariCP and pgjdbc
 * from a Spring controller is named by the repository method that ran it, not by
 * {@code ProxyPreparedStatement.executeQuery}.
 *
 * <p>The application is what the user names ({@link #forPackages(String)}: packages such as
 * {@code com.example.shop}), or by default everything outside {@link #LIBRARY_PACKAGES}. Classes
 * generated at run time (CGLIB and Byte Buddy proxies, the JDK's lambda classes: a {@code $$} in
 * the name) are never the call site: the method behind them is. A stack with no application frame
 * is named by its innermost Java frame; one with no Java frame at all is {@link #NO_JAVA_FRAME}.
 *
 * <p>A stack that does not reach its thread's start ({@link #complete}) is {@link #INCOMPLETE}:
 * the frame-pointer walk lost its way (a library built without frame pointers, or a JVM run
 * without {@code -XX:+PreserveFramePointer}, whose stacks end at the first compiled Java frame),
 * and the frames it found further out may be stale: they would name code that was not running.
 * This rule reads the agent's mixed stacks (Java, native and kernel frames down to the thread's
 * entry); it is not meant for the Java-only stacks of the JVM's own events.
 */
public final class CallSites {
    /** The call site of a stack that does not reach its thread's start. */
    public static final String INCOMPLETE = "(incomplete stack)";

    /** The call site of a stack without Java frames (a JVM or native thread), or of an event without a stack. */
    public static final String NO_JAVA_FRAME = "(no Java frame)";

    /** The id of the JMC rules' setting that names the application's packages (the converter's report sets it too). */
    public static final String APP_PACKAGES_SETTING = "ebpf.app.packages";

    /** Where every thread's stack begins: the JVM's thread entry, the launcher's main, libc's. */
    public static final Set<String> THREAD_ROOTS = Set.of("thread_native_entry", "JavaMain", "ThreadJavaMain", "start_thread",
            "clone3", "clone", "__libc_start_main", "__libc_start_call_main");

    /**
     * Packages of well-known libraries (each ends with a dot): the JDK, Jakarta EE, JDBC drivers
     * and pools, Spring, Apache (Tomcat, HttpClient, Kafka...), Netty, Jackson, Hibernate, gRPC,
     * logging, the Kotlin and Scala runtimes, test runners. Their frames are skipped by default.
     */
    public static final List<String> LIBRARY_PACKAGES = List.of(
            // the JDK
            "java.", "javax.", "jdk.", "sun.", "com.sun.", "jakarta.", "org.w3c.", "org.xml.", "org.ietf.",
            // databases: drivers, pools, mappers, migrations
            "org.postgresql.", "com.zaxxer.hikari.", "com.mysql.", "org.mariadb.", "oracle.jdbc.", "oracle.ucp.",
            "com.microsoft.sqlserver.", "org.h2.", "org.hsqldb.", "org.apache.derby.", "com.mchange.", "org.hibernate.",
            "org.jooq.", "org.mybatis.", "org.flywaydb.", "liquibase.", "com.mongodb.", "org.bson.", "redis.clients.",
            "io.lettuce.", "com.datastax.", "org.jdbi.", "io.r2dbc.", "io.vertx.",
            // frameworks and servers
            "org.springframework.", "org.apache.", "org.eclipse.", "io.undertow.", "org.jboss.", "org.glassfish.",
            "io.quarkus.", "io.micronaut.", "io.helidon.", "io.dropwizard.", "io.javalin.", "ratpack.", "play.", "akka.",
            "org.aspectj.", "net.bytebuddy.", "javassist.", "org.objectweb.asm.", "com.google.inject.", "dagger.",
            // networking, serialization, RPC
            "io.netty.", "reactor.", "io.reactivex.", "rx.", "okhttp3.", "okio.", "retrofit2.", "io.grpc.",
            "com.google.protobuf.", "com.google.gson.", "com.fasterxml.", "tools.jackson.", "org.yaml.", "com.ctc.wstx.",
            "software.amazon.awssdk.", "com.amazonaws.", "com.google.cloud.", "com.azure.",
            // libraries everyone has, observability
            "com.google.common.", "org.slf4j.", "ch.qos.logback.", "io.micrometer.", "io.opentelemetry.", "io.prometheus.",
            "com.codahale.metrics.", "io.github.resilience4j.", "com.github.benmanes.caffeine.", "net.sf.ehcache.",
            "org.ehcache.",
            // language runtimes and test runners
            "kotlin.", "kotlinx.", "scala.", "groovy.", "org.codehaus.groovy.", "clojure.", "org.junit.", "junit.",
            "org.testng.", "org.gradle.", "org.mockito.", "org.assertj.");

    /** Call sites by the default rule: everything outside {@link #LIBRARY_PACKAGES} is the application. */
    public static final CallSites DEFAULT = new CallSites(List.of());

    private static final Pattern PACKAGE = Pattern.compile("[\\p{javaJavaIdentifierStart}][\\p{javaJavaIdentifierPart}]*"
            + "(\\.[\\p{javaJavaIdentifierStart}][\\p{javaJavaIdentifierPart}]*)*");

    private final List<String> application;

    private CallSites(List<String> application) {
        this.application = List.copyOf(application);
    }

    /**
     * Call sites in the application named by these packages, separated by commas, {@code +} or
     * blanks ({@code com.example.shop,com.example.common}; a trailing {@code .*} or {@code .} is
     * allowed). The innermost frame in one of them is the call site; a stack with none is named
     * by the default rule. A blank text is the default rule.
     *
     * @throws IllegalArgumentException naming the part that is not a package name
     */
    public static CallSites forPackages(String applicationPackages) {
        if (applicationPackages == null || applicationPackages.isBlank()) {
            return DEFAULT;
        }
        List<String> packages = new ArrayList<>();
        for (String part : applicationPackages.trim().split("[,+\\s]+")) {
            String p = part.endsWith(".*") ? part.substring(0, part.length() - 2) : part.endsWith(".") ? part.substring(0, part.length() - 1) : part;
            if (!PACKAGE.matcher(p).matches()) {
                throw new IllegalArgumentException("'" + part + "' is not a package name; name the application's packages"
                        + " separated by commas, e.g. com.example.shop,com.example.common");
            }
            if (!packages.contains(p)) {
                packages.add(p);
            }
        }
        return new CallSites(packages);
    }

    /** The packages named as the application's; empty for the default rule. */
    public List<String> applicationPackages() {
        return application;
    }

    /** Whether a class belongs to one of the well-known libraries of {@link #LIBRARY_PACKAGES}. */
    public static boolean isLibrary(String className) {
        for (String p : LIBRARY_PACKAGES) {
            if (className.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a class was generated at run time (proxies, lambda classes): a {@code $$} in its name. */
    public static boolean isGenerated(String className) {
        return className.contains("$$") || className.contains("$ByteBuddy$") || className.contains("$HibernateProxy$");
    }

    /** Whether a class is in one of the packages named as the application's. */
    public boolean isNamedApplication(String className) {
        for (String p : application) {
            if (className.startsWith(p) && (className.length() == p.length() || className.charAt(p.length()) == '.')) {
                return true;
            }
        }
        return false;
    }

    /**
     * The call site of a stack: {@code class.method:line} of its innermost application frame,
     * {@link #INCOMPLETE} for a stack that does not reach its thread's start, the innermost Java
     * frame ({@code class.method}) when every Java frame is a library's, {@link #NO_JAVA_FRAME}
     * when it has none or there is no stack.
     */
    public String of(StackFrames stack) {
        if (stack == null) {
            return NO_JAVA_FRAME;
        }
        if (!complete(stack)) {
            return INCOMPLETE;
        }
        int frame = applicationFrame(stack);
        return frame >= 0 ? frame(stack, frame) : innermostJava(stack);
    }

    /** The index of the innermost application frame of a stack, -1 when it has none; completeness is not checked. */
    public int applicationFrame(StackFrames stack) {
        int n = stack.count();
        if (!application.isEmpty()) {
            for (int i = 0; i < n; i++) {
                String cls = stack.isJava(i) ? stack.typeName(i) : null;
                if (cls != null && !isGenerated(cls) && isNamedApplication(cls)) {
                    return i;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            String cls = stack.isJava(i) ? stack.typeName(i) : null;
            if (cls != null && !isGenerated(cls) && !isLibrary(cls)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Whether a stack reaches its thread's start (a frame of {@link #THREAD_ROOTS}), or was cut at
     * the depth limit (then it went deeper than kept, and did not lose its way). An empty stack is
     * not complete.
     */
    public static boolean complete(StackFrames stack) {
        if (stack == null) {
            return false;
        }
        if (stack.truncated()) {
            return true;
        }
        for (int i = 0, n = stack.count(); i < n; i++) {
            String m = stack.methodName(i);
            if (m != null && THREAD_ROOTS.contains(m)) {
                return true;
            }
        }
        return false;
    }

    /** The innermost Java frame of a stack as {@code class.method}: where its thread was; {@link #NO_JAVA_FRAME} without one. */
    public static String innermostJava(StackFrames stack) {
        if (stack != null) {
            for (int i = 0, n = stack.count(); i < n; i++) {
                if (stack.isJava(i) && stack.typeName(i) != null) {
                    return stack.typeName(i) + "." + stack.methodName(i);
                }
            }
        }
        return NO_JAVA_FRAME;
    }

    /**
     * The most frequent call site of a tally (call site to count or weight), complete stacks
     * first: {@link #INCOMPLETE} only when no stack was complete; null for an empty tally.
     */
    public static String mostFrequent(Map<String, Long> tally) {
        String best = null;
        long most = -1;
        for (Map.Entry<String, Long> e : tally.entrySet()) {
            if (!e.getKey().equals(INCOMPLETE) && e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best != null ? best : tally.containsKey(INCOMPLETE) ? INCOMPLETE : null;
    }

    /** Frame {@code i} as a call site: {@code class.method:line}, without the line when it is unknown. */
    public static String frame(StackFrames stack, int i) {
        int line = stack.lineNumber(i);
        return stack.typeName(i) + "." + stack.methodName(i) + (line > 0 ? ":" + line : "");
    }
}
