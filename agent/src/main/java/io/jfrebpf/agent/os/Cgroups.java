package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control groups of a process, cgroup v1 and v2 alike: its membership
 * ({@code /proc/<pid>/cgroup}), where each hierarchy is mounted ({@code mountinfo}), the container
 * and pod it belongs to (from the path names Docker, containerd, CRI-O, Podman and Kubernetes
 * give), its CPU quota, memory limit and throttling counters.
 */
public final class Cgroups {
    /** One line of /proc/pid/cgroup: hierarchy id, controllers (none for v2's 0::), path. */
    public record Membership(int hierarchy, List<String> controllers, String path) {
    }

    /** A cgroup filesystem mount: its root within the hierarchy and where it is mounted. */
    public record Mount(String root, Path mountPoint) {
    }

    /** A CPU limit: quota per period, in microseconds. */
    public record CpuLimit(long quotaMicros, long periodMicros) {
        /** CPUs' worth of time per period. */
        public double cpus() {
            return (double) quotaMicros / periodMicros;
        }
    }

    /** Throttling counters of cpu.stat, cumulative. */
    public record CpuStat(long periods, long throttledPeriods, long throttledNanos) {
    }

    private static final Pattern CONTAINER_ID = Pattern.compile("([0-9a-f]{64})");
    private static final Pattern POD_UID = Pattern.compile(
            "pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})");

    private final List<Membership> memberships;
    /** By controller name ("cpu", "memory", "name=systemd"); v2 under "". */
    private final Map<String, Mount> mounts;

    public Cgroups(List<Membership> memberships, Map<String, Mount> mounts) {
        this.memberships = List.copyOf(memberships);
        this.mounts = Map.copyOf(mounts);
    }

    /** This process's cgroups, read now. */
    public static Cgroups self() throws IOException {
        return new Cgroups(parseMemberships(Files.readString(Path.of("/proc/self/cgroup"))),
                parseMounts(Files.readString(Path.of("/proc/self/mountinfo"))));
    }

    public static List<Membership> parseMemberships(String text) {
        List<Membership> list = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            try {
                int id = Integer.parseInt(f[0].strip());
                List<String> controllers = f[1].isEmpty() ? List.of() : List.of(f[1].split(","));
                list.add(new Membership(id, controllers, f[2].strip()));
            } catch (NumberFormatException e) {
                // not a cgroup line
            }
        }
        return list;
    }

    /** The cgroup mounts of a mountinfo: v1 by each controller of its super options, v2 under "". */
    public static Map<String, Mount> parseMounts(String text) {
        Map<String, Mount> mounts = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] pre = line.substring(0, dash).split(" ");
            String[] post = line.substring(dash + 3).split(" ");
            if (pre.length < 5 || post.length < 3) {
                continue;
            }
            Mount m = new Mount(unescape(pre[3]), Path.of(unescape(pre[4])));
            if (post[0].equals("cgroup2")) {
                mounts.putIfAbsent("", m);
            } else if (post[0].equals("cgroup")) {
                for (String option : post[2].split(",")) {
                    if (!option.equals("rw") && !option.equals("ro") && !option.startsWith("release_agent")
                            && !option.equals("clone_children") && !option.equals("noprefix")) {
                        mounts.putIfAbsent(option, m);
                    }
                }
            }
        }
        return mounts;
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The container id in a cgroup path (the innermost 64-hex-digit name), if any. */
    public static Optional<String> containerId(String cgroupPath) {
        String id = null;
        for (String segment : cgroupPath.split("/")) {
            Matcher m = CONTAINER_ID.matcher(segment);
            if (m.find()) {
                id = m.group(1);
            }
        }
        return Optional.ofNullable(id);
    }

    /** The Kubernetes pod uid in a cgroup path (kubepods...pod<uid>, dashes or the systemd driver's underscores). */
    public static Optional<String> podUid(String cgroupPath) {
        Matcher m = POD_UID.matcher(cgroupPath);
        String uid = null;
        while (m.find()) {
            uid = m.group(1).replace('_', '-');
        }
        return Optional.ofNullable(uid);
    }

    /**
     * The path that names this process's cgroup: the v2 one when it is not the root, else that of
     * the cpu controller, else the first other that is not the root; "/" when all are the root.
     */
    public String path() {
        String v2 = null;
        String cpu = null;
        String other = null;
        for (Membership m : memberships) {
            if (m.controllers().isEmpty() && m.hierarchy() == 0) {
                v2 = m.path();
            } else if (m.controllers().contains("cpu")) {
                cpu = m.path();
            } else if (other == null && !m.path().equals("/")) {
                other = m.path();
            }
        }
        for (String p : new String[] {v2, cpu, other}) {
            if (p != null && !p.equals("/")) {
                return p;
            }
        }
        return "/";
    }

    /** The directory of this process's cgroup for a v1 controller, or the v2 one when the controller is not on v1. */
    public Optional<Path> dir(String controller) {
        for (Membership m : memberships) {
            if (m.controllers().contains(controller) && mounts.containsKey(controller)) {
                return Optional.of(resolve(mounts.get(controller), m.path()));
            }
        }
        for (Membership m : memberships) {
            if (m.hierarchy() == 0 && m.controllers().isEmpty() && mounts.containsKey("")) {
                Path dir = resolve(mounts.get(""), m.path());
                if (Files.exists(dir.resolve("cgroup.controllers"))) {
                    return Optional.of(dir);
                }
            }
        }
        return Optional.empty();
    }

    /** v1 mounts inside a container show the container's own cgroup as their root. */
    private static Path resolve(Mount mount, String path) {
        String relative = path;
        if (!mount.root().equals("/") && (path.equals(mount.root()) || path.startsWith(mount.root() + "/"))) {
            relative = path.substring(mount.root().length());
        }
        return relative.isEmpty() || relative.equals("/") ? mount.mountPoint() : mount.mountPoint().resolve(relative.substring(1));
    }

    /** The CPU quota of this process's cgroup, when it has one (v1 cpu.cfs_quota_us, v2 cpu.max). */
    public Optional<CpuLimit> cpuLimit() {
        Optional<Path> dir = dir("cpu");
        if (dir.isEmpty()) {
            return Optional.empty();
        }
        Path d = dir.get();
        try {
            if (Files.exists(d.resolve("cpu.max"))) {
                return parseCpuMax(Files.readString(d.resolve("cpu.max")));
            }
            long quota = Long.parseLong(Files.readString(d.resolve("cpu.cfs_quota_us")).strip());
            long period = Long.parseLong(Files.readString(d.resolve("cpu.cfs_period_us")).strip());
            return quota > 0 && period > 0 ? Optional.of(new CpuLimit(quota, period)) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** v2 cpu.max: "max 100000" (no quota) or "50000 100000". */
    public static Optional<CpuLimit> parseCpuMax(String text) {
        String[] f = text.strip().split("\\s+");
        if (f.length != 2 || f[0].equals("max")) {
            return Optional.empty();
        }
        try {
            long quota = Long.parseLong(f[0]);
            long period = Long.parseLong(f[1]);
            return quota > 0 && period > 0 ? Optional.of(new CpuLimit(quota, period)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The memory limit of this process's cgroup in bytes (v1 memory.limit_in_bytes, v2 memory.max), when it has one. */
    public OptionalLong memoryLimit() {
        Optional<Path> dir = dir("memory");
        if (dir.isEmpty()) {
            return OptionalLong.empty();
        }
        for (String file : new String[] {"memory.max", "memory.limit_in_bytes"}) {
            Path p = dir.get().resolve(file);
            if (Files.exists(p)) {
                try {
                    String v = Files.readString(p).strip();
                    if (v.equals("max")) {
                        return OptionalLong.empty();
                    }
                    long n = Long.parseLong(v);
                    // v1 says "no limit" with LONG_MAX rounded down to a page: 9223372036854771712
                    return n <= 0 || n >= 1L << 62 ? OptionalLong.empty() : OptionalLong.of(n);
                } catch (IOException | NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }

    /** The throttling counters of this process's cgroup (cpu.stat), when its cpu controller is visible. */
    public Optional<CpuStat> cpuStat() {
        Optional<Path> dir = dir("cpu");
        if (dir.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(parseCpuStat(Files.readString(dir.get().resolve("cpu.stat"))));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** cpu.stat: v1 throttled_time in ns, v2 throttled_usec. */
    public static CpuStat parseCpuStat(String text) {
        long periods = 0;
        long throttled = 0;
        long nanos = 0;
        for (String line : text.split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length != 2) {
                continue;
            }
            long v;
            try {
                v = Long.parseLong(f[1]);
            } catch (NumberFormatException e) {
                continue;
            }
            switch (f[0]) {
                case "nr_periods" -> periods = v;
                case "nr_throttled" -> throttled = v;
                case "throttled_time" -> nanos = v;
                case "throttled_usec" -> nanos = v * 1000;
                default -> {
                }
            }
        }
        return new CpuStat(periods, throttled, nanos);
    }
}
