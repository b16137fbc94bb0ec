package io.jfrebpf.agent.boot;

import java.lang.instrument.Instrumentation;

/**
 * Premain-Class, Agent-Class and Main-Class of the agent jar, compiled for Java 8 so that
 * every JVM a service may run can load it. A Premain-Class too new for the JVM aborts the
 * JVM at start (facts.md); this class checks the Java version and only then hands off to
 * the Java 25 agent. On an older JVM it prints one line and the service starts untraced.
 */
public final class Boot {
    /** java.lang.foreign is final since 22; the agent is compiled with --release 25. */
    static final int REQUIRED_FEATURE = 25;

    private Boot() {
    }

    public static void premain(String options, Instrumentation inst) {
        start(options, inst, false);
    }

    public static void agentmain(String options, Instrumentation inst) {
        start(options, inst, true);
    }

    public static void main(String[] args) throws Throwable {
        if (feature() < REQUIRED_FEATURE) {
            System.err.println("[jfr-ebpf] error: this command needs JDK " + REQUIRED_FEATURE
                    + " or newer; this is Java " + System.getProperty("java.version")
                    + " (" + System.getProperty("java.home") + ")");
            System.exit(2);
        }
        io.jfrebpf.agent.Cli.main(args);
    }

    private static void start(String options, Instrumentation inst, boolean dynamic) {
        try {
            if (feature() < REQUIRED_FEATURE) {
                System.err.println("[jfr-ebpf] warn: Java " + System.getProperty("java.version")
                        + " is too old for jfr-ebpf (it needs JDK " + REQUIRED_FEATURE
                        + " for java.lang.foreign); the application runs untraced");
                return;
            }
            // a direct call, linked only when it runs (after the version check): a reflective one
            // would spin method-handle classes in the application's JVM
            io.jfrebpf.agent.Agent.start(options, inst, dynamic);
        } catch (Throwable t) {
            System.err.println("[jfr-ebpf] error: the agent could not start (" + t
                    + "); the application runs untraced");
        }
    }

    /** The feature release of the running JVM: 8 for "1.8", 17 for "17". */
    static int feature() {
        String v = System.getProperty("java.specification.version", "0");
        if (v.startsWith("1.")) {
            v = v.substring(2);
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
