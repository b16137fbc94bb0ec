package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The container and cgroup the traced JVM runs in, at the start of the recording. */
@Name("ebpf.ContainerInfo")
@FromProbe("agent")
@Label("Container Info")
@Description("The cgroup of this JVM (v1 or v2), the container and Kubernetes pod it belongs to, and its CPU and memory limits, at the start of the recording")
@Category({"eBPF", "Container"})
@StackTrace(false)
public final class ContainerInfoEvent extends EbpfEvent {
    @Label("Cgroup Path")
    @Description("The cgroup v2 path, or the cpu controller's v1 path; / for the root")
    public String cgroupPath;

    @Label("Container Id")
    @Description("Docker, containerd, CRI-O or Podman container id found in the cgroup path; null outside a container")
    public String containerId;

    @Label("Pod UID")
    @Description("Kubernetes pod uid found in the cgroup path; null outside Kubernetes")
    public String podUid;

    @Label("CPU Quota")
    @Description("CPUs' worth of time per period the cgroup may use (quota / period); -1 when unlimited")
    public double cpuQuota;

    @Label("Memory Limit")
    @Description("Memory limit of the cgroup in bytes; -1 when unlimited")
    @DataAmount
    public long memoryLimit;
}
