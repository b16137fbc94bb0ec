package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Options.ProbeName;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Which class implements each name of the {@code probes=} option. */
public final class Probes {
    private Probes() {
    }

    /** A probe's detach thread (a class, not a method reference: each costs a spun class). */
    private static final class Closing implements Runnable {
        private final Probe probe;

        Closing(Probe probe) {
            this.probe = probe;
        }

        @Override
        public void run() {
            probe.close();
        }
    }

    /**
     * Closes probes together, each on a thread of its own, and waits (at most {@code timeoutMillis}):
     * their uprobe links each wait for a kernel grace period when detached, and the JVM's exit
     * waits for ours. Probe.close never throws.
     */
    public static void closeAll(List<Probe> probes, long timeoutMillis) {
        List<Thread> threads = new ArrayList<>(probes.size());
        for (Probe p : probes) {
            Thread t = new Thread(new Closing(p), "jfr-ebpf-detach");
            t.setDaemon(true);
            try {
                t.start();
                threads.add(t);
            } catch (OutOfMemoryError | RuntimeException e) {
                p.close();
            }
        }
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            try {
                t.join(Math.max(1, left / 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A new probe for the name, or empty when this version has no such probe yet. */
    public static Optional<Probe> create(ProbeName name) {
        return switch (name) {
            case SYSCALL -> Optional.of(new SyscallLatencyProbe());
            case FILE -> Optional.of(new FileOpenProbe());
            case CPU -> Optional.of(new CpuSampleProbe());
            case OFFCPU -> Optional.of(new OffCpuProbe());
            case TCP -> Optional.of(new TcpProbe());
            case MALLOC -> Optional.of(new MallocProbe());
            case SCHED -> Optional.of(new SchedProbe());
            case POSTGRES -> Optional.of(new PostgresProbe());
        };
    }
}
