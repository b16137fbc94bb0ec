package io.jfrebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Locale;
import org.junit.jupiter.api.Test;

class LogTest {
    /** The same text, or the same kind of failure (which Log swallows: a bad pattern must not reach the application). */
    private static void same(String format, Object... args) {
        assertEquals(jdk(() -> String.format(Locale.ROOT, format, args)), jdk(() -> Log.format(format, args)), format);
    }

    private static String jdk(java.util.function.Supplier<String> f) {
        try {
            return f.get();
        } catch (RuntimeException e) {
            return e.getClass().getName();
        }
    }

    @Test
    void hexAndFixedDecimalsAsFormatterWritesThem() {
        same("0x%x at +0x%x", 0x7f00dead0000L, 255);
        same("%x", -1L);
        same("%x", -1);
        for (double v : new double[] {0, -0.0, 0.05, 0.15, 0.25, 2.5, -2.5, -0.04, 99.95, 1234.5678, 1e6 + 0.05, 1e14, 1e15, 1e300,
                Double.NaN, Double.POSITIVE_INFINITY, -1e-9, 100.0 * 998 / 1000, 9.995, 999.96, 0.96, -9.96, 1e-4, 5e-4}) {
            same("%.1f ms", v);
            same("%.0f", v);
            same("%.2f%%", v);
            same("%.3f", v);
        }
        same("%.1f", 0.1f);
        same("%.1f", 2.25f);
        same("%.1f", 7); // not a double: Formatter's own failure
        same("%.4f", 1.23456);
    }

    @Test
    void formatsAsTheJdkDoes() {
        same("probe %s: %d events, %d lost", "cpu", 12_345_678L, 0);
        same("100%% of %s", (Object) null);
        same("%s%s%d", "a", "", -7);
        same("no arguments used", "x");
        same("%x at +%d (%.1f ms)", 0xdeadbeefL, 16, 2.25); // the JDK's Formatter for what it does not do by hand
        same("%d as a string", "12");
        same("%s %s", new Object[] {new StringBuilder("sb"), 3.5});
        same("trailing %");
    }
}
