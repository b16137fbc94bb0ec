package io.jfrebpf.events;

/**
 * An event type that happens on one OS thread (on CPU, off CPU, waiting to run, in a syscall,
 * opening a file): when a
 * virtual thread was mounted, its {@code eventThread} is that virtual thread, as JFR names it, and
 * the agent names the platform thread that carried it in {@value #FIELD}.
 */
public interface OnCarrier {
    /** The field that holds the carrier's name: null when the event's thread is not virtual. */
    String FIELD = "carrierThread";

    /** Sets {@value #FIELD}. */
    void carrierThread(String name);
}
