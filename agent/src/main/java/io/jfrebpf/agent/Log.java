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
            } else if (next < args.length && spec == 'x' && (args[next] instanceof Long || args[next] instanceof Integer)) {
                Object v = args[next++];
                b.append(v instanceof Long l ? Long.toHexString(l) : Integer.toHexString((Integer) v));
            } else if (next < args.length && spec == '.' && i + 3 < format.length() && format.charAt(i + 3) == 'f'
                    && format.charAt(i + 2) >= '0' && format.charAt(i + 2) <= '3'
                    && (args[next] instanceof Double || args[next] instanceof Float)) {
                fixed(b, ((Number) args[next++]).doubleValue(), format.charAt(i + 2) - '0');
                i += 2;
            } else {
                return String.format(Locale.ROOT, format, args);
            }
            i++;
        }
        return b.toString();
    }

    /**
     * {@code %.Nf} for N of 0-3, rounded half up from the shortest decimal that names the double,
     * as Formatter rounds (0.15 gives 0.2, though the double is 0.1499...): digit work on
     * {@link Double#toString}, without Formatter, whose set-up (regular expressions, locale data)
     * an exit-time line paid for, and without BigDecimal's.
     */
    static void fixed(StringBuilder b, double v, int decimals) {
        String text = Double.toString(Math.abs(v));
        int dot = text.indexOf('.');
        if (Double.isNaN(v) || Double.isInfinite(v) || text.indexOf('E') >= 0 || dot < 0) {
            b.append(String.format(Locale.ROOT, "%." + decimals + "f", v)); // tiny or huge magnitudes: rare
            return;
        }
        // the digits kept, without the dot, one more in front for a carry
        char[] digits = new char[1 + dot + decimals];
        digits[0] = '0';
        text.getChars(0, dot, digits, 1);
        for (int k = 0; k < decimals; k++) {
            int at = dot + 1 + k;
            digits[1 + dot + k] = at < text.length() ? text.charAt(at) : '0';
        }
        int next = dot + 1 + decimals;
        if (next < text.length() && text.charAt(next) >= '5') {
            int k = digits.length - 1;
            while (digits[k] == '9') {
                digits[k--] = '0';
            }
            digits[k]++;
        }
        if (v < 0 || v == 0 && 1 / v < 0) {
            b.append('-'); // Formatter keeps the sign of a negative value, also one that rounds to zero
        }
        int from = digits[0] == '0' ? 1 : 0; // the carry place, unless a carry reached it
        int intEnd = digits.length - decimals;
        for (int k = from; k < intEnd; k++) {
            b.append(digits[k]);
        }
        if (decimals > 0) {
            b.append('.').append(digits, intEnd, decimals);
        }
    }

    private static boolean isInteger(Object o) {
        return o instanceof Long || o instanceof Integer || o instanceof Short || o instanceof Byte;
    }
}
