package io.jfrebpf.events;

import jdk.jfr.Enabled;
import jdk.jfr.Event;

/**
 * Base of the catalog. These classes define names, labels and fields; instances are never
 * committed through jdk.jfr (their time, thread and stack come from the kernel): the agent's
 * chunk writer reads the declared public fields. Disabled so that a stray commit costs nothing.
 */
@Enabled(false)
public abstract class EbpfEvent extends Event {
}
