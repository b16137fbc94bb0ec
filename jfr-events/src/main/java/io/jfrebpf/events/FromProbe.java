package io.jfrebpf.events;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Which probe of the {@code probes=} option writes an event type ({@code agent} for the events
 * the agent writes itself): for the documentation generated from the catalog and for readers
 * that tell a user which probe to turn on. Not a JFR annotation: it stays out of the recording.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface FromProbe {
    /** The probe's name as in {@code probes=}, or {@code agent}. */
    String value();
}
