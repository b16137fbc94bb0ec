package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Options.ProbeName;
import java.util.Optional;

/** Which class implements each name of the {@code probes=} option. */
public final class Probes {
    private Probes() {
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
