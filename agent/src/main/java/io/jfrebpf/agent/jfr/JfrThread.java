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
}
