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
