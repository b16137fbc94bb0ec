package io.jfrebpf.events.read;

import java.util.List;
import java.util.Set;

/**
 * The threads of the JVM, the JDK and the agent itself, by their Java names, as opposed to the
 * application's: the JVM's service threads, the JDK's daemon threads (reference processing,
 * cleaners, the virtual thread scheduler's unblocker and timers, the I/O pollers, process
 * reapers) and the agent's. They spend nearly all their life waiting for work, in frames no
 * application code waits in ({@code java.lang.VirtualThread.takeVirtualThreadListToUnblock},
 * {@code java.lang.ProcessHandleImpl.waitForProcessExit0}): their time off CPU is idle by design,
 * not an application thread blocked. A rule that judges the application leaves them out.
 *
 * <p>The carriers of virtual threads ({@code ForkJoinPool-1-worker-N}) are not among them: an event
 * while a virtual thread is mounted names the virtual thread, and a carrier without one waits for
 * work in {@code LockSupport.park} like any pool; an application's own ForkJoinPool has the same
 * names.
 */
public final class JdkThreads {
    /** Names of the JVM's and the JDK's own Java threads (JDK 17 to 25). */
    public static final Set<String> NAMES = Set.of("Reference Handler", "Finalizer", "Signal Dispatcher", "Common-Cleaner",
            "Service Thread", "Monitor Deflation Thread", "Notification Thread", "Attach Listener", "Sweeper thread",
            "VirtualThread-unblocker", "VirtualThread-unparker", "MasterPoller", "Read-Poller", "Write-Poller");

    /**
     * Beginnings of the names of the JVM's, the JDK's and the agent's threads: compiler threads,
     * JFR's, the process reapers (renamed {@code process reaper (pid N)} while they wait for a
     * child), the agent's own ({@code jfr-ebpf-writer}...), and the I/O pollers that are virtual threads
     * ({@code SubPoller-N}, JDK 22+ on Linux: their waits while unmounted are {@code ebpf.OffCPU} too).
     */
    public static final List<String> PREFIXES = List.of("C1 CompilerThread", "C2 CompilerThread", "JVMCI", "JFR ", "process reaper",
            "jfr-ebpf", "SubPoller-");

    private JdkThreads() {
    }

    /** Whether the Java thread of this name is the JVM's, the JDK's or the agent's own. */
    public static boolean isJdkInternal(String javaName) {
        if (javaName == null) {
            return false;
        }
        if (NAMES.contains(javaName)) {
            return true;
        }
        for (String p : PREFIXES) {
            if (javaName.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a Java thread of this name is the application's: it has a name, and is not {@link #isJdkInternal}. */
    public static boolean isApplication(String javaName) {
        return javaName != null && !isJdkInternal(javaName);
    }
}
