package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU time of the calling thread, from {@code /proc/thread-self/stat} (user + system, in the
 * kernel's clock ticks of 10 ms): for the agent's own log lines, without loading
 * java.lang.management (a few hundred classes) into the application's JVM.
 */
public final class ThreadCpu {
    /** USER_HZ on Linux. */
    static final long TICK_NANOS = 10_000_000L;

    private ThreadCpu() {
    }

    /** CPU time of the calling thread in nanoseconds (10 ms resolution), or -1 when unreadable. */
    public static long currentNanos() {
        try {
            return parse(Files.readString(Path.of("/proc/thread-self/stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** utime + stime (fields 14 and 15) of a stat line; the name in parentheses may hold spaces. */
    static long parse(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return -1;
        }
        String[] f = stat.substring(close + 2).split(" ");
        if (f.length < 13) {
            return -1;
        }
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_NANOS;
    }
}
