package io.jfrebpf.events;

import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Registered;

/**
 * Base of the catalog. These classes define names, labels and fields; instances are never
 * committed through jdk.jfr (their time, thread and stack come from the kernel): the agent's
 * chunk writer reads the declared public fields. Not registered with the JVM's recorder, so
 * the JVM's own chunks do not declare these types a second time under other ids; disabled so
 * that a stray commit costs nothing.
 */
@Registered(false)
@Enabled(false)
public abstract class EbpfEvent extends Event {
}
