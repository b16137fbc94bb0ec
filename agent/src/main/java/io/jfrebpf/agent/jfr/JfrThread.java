package io.jfrebpf.agent.jfr;

/**
 * The thread an event happened on, as JFR's {@code java.lang.Thread} type describes it.
 * A JVM-internal or foreign native thread has no Java identity: {@code javaName} is null and
 * {@code javaThreadId} is 0; its OS name is then its kernel name (comm).
 */
public record JfrThread(long osThreadId, String osName, long javaThreadId, String javaName, boolean virtual) {
    public static JfrThread nativeThread(long osThreadId, String osName) {
        return new JfrThread(osThreadId, osName, 0, null, false);
    }

    public boolean isJava() {
        return javaName != null;
    }

    /*
     * Written out: a record's own equals and hashCode are bootstrapped through method handles at
     * their first call (java.lang.runtime.ObjectMethods), which costs every JVM spun classes and
     * JIT work at the agent's start-up; these compare the same components.
     */

    @Override
    public boolean equals(Object o) {
        return o instanceof JfrThread t && osThreadId == t.osThreadId && javaThreadId == t.javaThreadId && virtual == t.virtual
                && java.util.Objects.equals(osName, t.osName) && java.util.Objects.equals(javaName, t.javaName);
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(osThreadId);
        h = 31 * h + java.util.Objects.hashCode(osName);
        h = 31 * h + Long.hashCode(javaThreadId);
        h = 31 * h + java.util.Objects.hashCode(javaName);
        return 31 * h + Boolean.hashCode(virtual);
    }
}
