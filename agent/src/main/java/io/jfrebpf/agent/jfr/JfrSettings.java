package io.jfrebpf.agent.jfr;

import java.util.Locale;

/**
 * The JVM's own recording merged into the file (option {@code jfr=}): JFR's {@code default} or
 * {@code profile} settings, or {@code none}. Its own type here, beside the recording it starts
 * ({@link JvmRecording}), so that the writer does not reach up into the options.
 */
public enum JfrSettings {
    DEFAULT, PROFILE, NONE;

    /** The option's value: {@code default}, {@code profile}, {@code none}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
