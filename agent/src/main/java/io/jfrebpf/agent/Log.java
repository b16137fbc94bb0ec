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
            String text = args.length == 0 ? format : format(format, args);
            out.println("[jfr-ebpf] " + level.name().toLowerCase(Locale.ROOT) + ": " + text);
        } catch (Throwable ignored) {
            // a bad format string or a closed stream must not reach the application
        }
    }

    /**
     * {@code %s}, {@code %d} and {@code %%} by hand, anything else through {@link String#format}:
     * the JDK's Formatter parses its pattern with regular expressions, ~15 ms and a few hundred
     * JIT compilations at its first use, which the start-up's messages need not pay.
     */
    static String format(String format, Object... args) {
        StringBuilder b = new StringBuilder(format.length() + 16 * args.length);
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                b.append(c);
                continue;
            }
            char spec = i + 1 < format.length() ? format.charAt(i + 1) : 0;
            if (spec == '%') {
                b.append('%');
            } else if (next < args.length && (spec == 's' || (spec == 'd' && isInteger(args[next])))) {
                b.append(args[next++]);
            } else {
                return String.format(Locale.ROOT, format, args);
            }
            i++;
        }
        return b.toString();
    }

    private static boolean isInteger(Object o) {
        return o instanceof Long || o instanceof Integer || o instanceof Short || o instanceof Byte;
    }
}
