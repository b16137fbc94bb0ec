package io.jfrebpf.agent;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The agent's log: one line per message on stderr, prefixed {@code [jfr-ebpf]}, at or above
 * the level of the {@code log=} option. Never throws: a logging failure must not reach the app.
 */
public final class Log {
    public enum Level { ERROR, WARN, INFO, DEBUG }

    private static volatile Level threshold = Level.INFO;
    private static volatile PrintStream out = System.err;

    private Log() {
    }

    public static void setLevel(Level level) {
        threshold = level;
    }

    public static Level level() {
        return threshold;
    }

    /** For tests: where lines go. */
    static void redirect(PrintStream stream) {
        out = stream;
    }

    public static boolean enabled(Level level) {
        return level.ordinal() <= threshold.ordinal();
    }

    public static boolean isDebug() {
        return enabled(Level.DEBUG);
    }

    public static void error(String format, Object... args) {
        log(Level.ERROR, format, args);
    }

    public static void warn(String format, Object... args) {
        log(Level.WARN, format, args);
    }

    public static void info(String format, Object... args) {
        log(Level.INFO, format, args);
    }

    public static void debug(String format, Object... args) {
        log(Level.DEBUG, format, args);
    }

    public static void log(Level level, String format, Object... args) {
        if (!enabled(level)) {
            return;
        }
        try {
            String text = args.length == 0 ? format : String.format(Locale.ROOT, format, args);
            out.println("[jfr-ebpf] " + level.name().toLowerCase(Locale.ROOT) + ": " + text);
        } catch (Throwable ignored) {
            // a bad format string or a closed stream must not reach the application
        }
    }
}
