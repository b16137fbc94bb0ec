package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.os.Cgroups;
import io.jfrebpf.events.ContainerInfoEvent;
import java.io.IOException;

/** {@code ebpf.ContainerInfo}: the cgroup, container, pod and limits of this JVM, written once at the start. */
public final class ContainerInfo {
    private ContainerInfo() {
    }

    public static ContainerInfoEvent read() throws IOException {
        return of(Cgroups.self());
    }

    static ContainerInfoEvent of(Cgroups cgroups) {
        ContainerInfoEvent e = new ContainerInfoEvent();
        e.cgroupPath = cgroups.path();
        e.containerId = Cgroups.containerId(e.cgroupPath).orElse(null);
        e.podUid = Cgroups.podUid(e.cgroupPath).orElse(null);
        e.cpuQuota = cgroups.cpuLimit().map(Cgroups.CpuLimit::cpus).orElse(-1.0);
        e.memoryLimit = cgroups.memoryLimit().orElse(-1);
        return e;
    }
}
