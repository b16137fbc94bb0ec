package io.jfrebpf.convert;

import java.io.PrintStream;
import java.util.Locale;

/** Progress of a long read on stderr: a line every two seconds, nothing for a quick one. */
final class Progress {
    static final long EVERY_NS = 2_000_000_000L;

    private final PrintStream err;
    private final String what;
    private final long started = System.nanoTime();
    private long lastNs = started;
    private long count;
    private boolean printed;

    Progress(PrintStream err, String what) {
        this.err = err;
        this.what = what;
    }

    void tick() {
        count++;
        if ((count & 0xfff) == 0) {
            long now = System.nanoTime();
            if (now - lastNs >= EVERY_NS) {
                lastNs = now;
                printed = true;
                err.printf(Locale.ROOT, "convert: %s: %,d events read (%d s)%n", what, count, (now - started) / 1_000_000_000L);
            }
        }
    }

    void done() {
        if (printed) {
            err.printf(Locale.ROOT, "convert: %s: %,d events read in %.1f s%n", what, count,
                    (System.nanoTime() - started) / 1e9);
        }
    }
}
