package io.jfrebpf.agent.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * perf_event_open(2) for the CPU sampler: one software cpu-clock event per online CPU, sampling
 * at a frequency, for every task on that CPU (the BPF program keeps only ours). A software timer
 * works where hardware counters do not (VMs).
 */
public final class PerfEvents {
    private static final int SYS_PERF_EVENT_OPEN = 298; // x86_64
    private static final int PERF_TYPE_SOFTWARE = 1;
    private static final int PERF_COUNT_SW_CPU_CLOCK = 0;
    private static final int PERF_ATTR_SIZE = 128; // PERF_ATTR_SIZE_VER7: every field we set is older
    private static final long FLAG_FREQ = 1L << 10;
    private static final long PERF_FLAG_FD_CLOEXEC = 8;

    /** Variadic, but glibc's syscall ignores the vector-register count ({@link Native}): the number and five arguments. */
    private static final NativeFunction SYSCALL = NativeFunction.libc("syscall");

    private PerfEvents() {
    }

    /**
     * Opens a cpu-clock sampling event on one CPU for all tasks: the fd, or minus the errno of the
     * failure (as the system call gives it), which {@link #describe} puts in words.
     */
    public static int cpuClock(int cpu, int hz) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(PERF_ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, PERF_TYPE_SOFTWARE);
            attr.set(ValueLayout.JAVA_INT, 4, PERF_ATTR_SIZE);
            attr.set(ValueLayout.JAVA_LONG, 8, PERF_COUNT_SW_CPU_CLOCK);
            attr.set(ValueLayout.JAVA_LONG, 16, hz);
            attr.set(ValueLayout.JAVA_LONG, 40, FLAG_FREQ);
            long fd = SYSCALL.call(SYS_PERF_EVENT_OPEN, attr.address(), -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
            if (fd >= 0) {
                return (int) fd;
            }
            int errno = Native.errno();
            return -(errno > 0 ? errno : Errno.EINVAL); // never 0: that would read as an fd
        }
    }

    /** What a failed {@link #cpuClock} means: the call, its CPU and frequency, the errno's name. */
    public static String describe(int cpu, int hz, int errno) {
        return "perf_event_open(cpu-clock, cpu " + cpu + ", " + hz + " Hz) failed: " + Errno.name(errno);
    }

    /** The online CPUs, from /sys/devices/system/cpu/online ("0-3,5"); all processors if unreadable. */
    public static List<Integer> onlineCpus() {
        try {
            return parseCpuList(Files.readString(Path.of("/sys/devices/system/cpu/online")).strip());
        } catch (IOException | RuntimeException e) {
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
                all.add(i);
            }
            return all;
        }
    }

    static List<Integer> parseCpuList(String text) {
        List<Integer> cpus = new ArrayList<>();
        for (String part : text.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int dash = part.indexOf('-');
            int from = Integer.parseInt(part.substring(0, dash < 0 ? part.length() : dash).strip());
            int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1).strip());
            for (int c = from; c <= to && cpus.size() < 4096; c++) {
                cpus.add(c);
            }
        }
        return cpus;
    }
}
