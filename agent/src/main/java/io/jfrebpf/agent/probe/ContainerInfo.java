package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.os.Cgroups;
import io.jfrebpf.events.ContainerInfoEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** {@code ebpf.ContainerInfo}: the cgroup, container, pod and limits of this JVM, at the start and after each move. */
public final class ContainerInfo {
    private ContainerInfo() {
    }

    public static ContainerInfoEvent read() throws IOException {
        return of(Cgroups.self());
    }

    /**
     * Notices a move to other cgroups (a process can be moved while it runs): each poll reads
     * /proc/self/cgroup, a few hundred bytes, and gives a new event when it changed. Events are
     * attributed to a cgroup by time — the latest ebpf.ContainerInfo before them — so nothing is
     * paid per event.
     */
    public static final class Watch {
        private String last;

        public Optional<ContainerInfoEvent> poll() throws IOException {
            String now = Files.readString(Path.of("/proc/self/cgroup"));
            if (now.equals(last)) {
                return Optional.empty();
            }
            last = now;
            return Optional.of(read());
        }
    }

    static ContainerInfoEvent of(Cgroups cgroups) {
        ContainerInfoEvent e = new ContainerInfoEvent();
        e.cgroupPath = cgroups.path();
        e.containerId = Cgroups.containerId(e.cgroupPath).orElse(null);
        e.podUid = Cgroups.podUid(e.cgroupPath).orElse(null);
        Optional<Cgroups.CpuLimit> cpu = cgroups.cpuLimit();
        e.cpuQuota = cpu.isPresent() ? cpu.get().cpus() : -1.0;
        e.memoryLimit = cgroups.memoryLimit().orElse(-1);
        return e;
    }
}
