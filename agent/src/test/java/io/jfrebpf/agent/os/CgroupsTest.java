package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Parsers of /proc/pid/cgroup, mountinfo and the cgroup files, on samples from real hosts. */
class CgroupsTest {
    static final String ID = "3f1c2d5e8a9b0c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";

    @Test
    void dockerOnCgroupV1() {
        String cgroup = "12:cpu,cpuacct:/docker/" + ID + "\n11:memory:/docker/" + ID + "\n1:name=systemd:/docker/" + ID + "\n0::/system.slice/containerd.service\n";
        List<Cgroups.Membership> m = Cgroups.parseMemberships(cgroup);
        assertEquals(4, m.size());
        assertEquals(List.of("cpu", "cpuacct"), m.get(0).controllers());
        Cgroups c = new Cgroups(m, Map.of());
        assertEquals("/system.slice/containerd.service", c.path(), "the v2 path when not the root");
        assertEquals(Optional.of(ID), Cgroups.containerId("/docker/" + ID));
    }

    @Test
    void containerIdsOfEveryRuntime() {
        for (String path : List.of(
                "/system.slice/docker-" + ID + ".scope",
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/cri-containerd-" + ID + ".scope",
                "/kubepods/besteffort/pod0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/" + ID,
                "/machine.slice/libpod-" + ID + ".scope/container",
                "/kubepods.slice/kubepods-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/crio-" + ID + ".scope")) {
            assertEquals(Optional.of(ID), Cgroups.containerId(path), path);
        }
        assertEquals(Optional.of("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"), Cgroups.podUid(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/cri-containerd-" + ID + ".scope"));
        assertEquals(Optional.of("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"),
                Cgroups.podUid("/kubepods/besteffort/pod0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/" + ID));
        assertEquals(Optional.empty(), Cgroups.containerId("/user.slice/user-1000.slice/session-3.scope"));
        assertEquals(Optional.empty(), Cgroups.podUid("/system.slice/docker-" + ID + ".scope"));
    }

    @Test
    void mountsOfAHybridHostAndAContainer() {
        // this project's CI machine: v1 controllers and a v2 hierarchy on /sys/fs/cgroup/unified
        String host = """
                30 24 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
                31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
                32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
                33 30 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
                34 30 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
                40 24 0:35 / /tmp/a\\040dir rw,relatime - tmpfs tmpfs rw
                """;
        Map<String, Cgroups.Mount> mounts = Cgroups.parseMounts(host);
        assertEquals(Path.of("/sys/fs/cgroup/cpu"), mounts.get("cpu").mountPoint());
        assertEquals(Path.of("/sys/fs/cgroup/memory"), mounts.get("memory").mountPoint());
        assertEquals(Path.of("/sys/fs/cgroup/unified"), mounts.get("").mountPoint());
        assertEquals(Path.of("/sys/fs/cgroup/systemd"), mounts.get("name=systemd").mountPoint());
        Cgroups c = new Cgroups(Cgroups.parseMemberships("4:memory:/process_api/386db0d0\n1:cpu:/jfr/test\n0::/\n"), mounts);
        assertEquals(Optional.of(Path.of("/sys/fs/cgroup/cpu/jfr/test")), c.dir("cpu"));
        assertEquals(Optional.of(Path.of("/sys/fs/cgroup/memory/process_api/386db0d0")), c.dir("memory"));
        assertEquals("/jfr/test", c.path(), "v2 is the root: the cpu controller's path");

        // inside a container, v1 mounts show the container's own cgroup as their root
        String container = "500 400 0:31 /docker/" + ID + " /sys/fs/cgroup/cpu ro,nosuid - cgroup cgroup rw,cpu,cpuacct\n";
        Cgroups inside = new Cgroups(Cgroups.parseMemberships("3:cpu,cpuacct:/docker/" + ID + "\n"), Cgroups.parseMounts(container));
        assertEquals(Optional.of(Path.of("/sys/fs/cgroup/cpu")), inside.dir("cpu"));
        assertEquals("a dir", Cgroups.unescape("a\\040dir"));
    }

    @Test
    void limitsAndThrottlingInBothVersions() {
        assertEquals(Optional.of(new Cgroups.CpuLimit(50_000, 100_000)), Cgroups.parseCpuMax("50000 100000\n"));
        assertEquals(0.5, Cgroups.parseCpuMax("50000 100000").orElseThrow().cpus());
        assertEquals(Optional.empty(), Cgroups.parseCpuMax("max 100000\n"));
        assertEquals(new Cgroups.CpuStat(120, 37, 1_234_567_890L),
                Cgroups.parseCpuStat("nr_periods 120\nnr_throttled 37\nthrottled_time 1234567890\nnr_bursts 0\nburst_time 0\n"));
        assertEquals(new Cgroups.CpuStat(120, 37, 1_234_567_000L), Cgroups.parseCpuStat(
                "usage_usec 99\nuser_usec 50\nsystem_usec 49\nnr_periods 120\nnr_throttled 37\nthrottled_usec 1234567\n"));
    }

    @Test
    void thisMachineParses() throws Exception {
        Cgroups self = Cgroups.self();
        assertTrue(self.path().startsWith("/"), self.path());
        assertTrue(self.dir("cpu").isPresent() || self.dir("memory").isPresent(), "no cpu or memory cgroup directory found");
    }
}
