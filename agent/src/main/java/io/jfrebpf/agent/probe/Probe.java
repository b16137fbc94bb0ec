package io.jfrebpf.agent.probe;

/**
 * One BPF object and what the agent does with it: open → configure (.rodata tunables such as
 * our tgid) → load → attach → poll (its ring buffer is drained by the agent's poller thread)
 * → close. Each probe is one class beside its {@code bpf/<probe>.bpf.c}.
 */
public interface Probe extends AutoCloseable {
    /** The name in the {@code probes=} option. */
    String name();

    /** Opens, configures, loads and attaches; registers ring buffers with the context's poller. */
    void start(ProbeContext context) throws Exception;

    /** How the probe is attached, for the log and {@code ebpf.ProbeStatus.reason}. */
    String attachedAs();

    /** Called on the poller thread after each poll (every few ms): for work that cannot wait a second. */
    default void afterPoll(long nowNs) {
    }

    /** Called about once a second on the poller thread: periodic events (statistics). */
    default void periodic(long nowNs) {
    }

    /** Called once after the last drain, before close: final periodic events. */
    default void finish(long nowNs) {
        periodic(nowNs);
    }

    /** Events this probe delivered. */
    long events();

    /** Events this probe lost: kernel ring buffer full, or dropped in the agent. */
    long lost();

    /** Detaches and unloads everything; idempotent, never throws. */
    @Override
    void close();
}
