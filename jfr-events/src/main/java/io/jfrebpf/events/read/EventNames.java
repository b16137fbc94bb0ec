package io.jfrebpf.events.read;

import java.util.List;

/**
 * The names of the catalog's event types, for readers: the converter, the JMC rules and the JUnit
 * extension spell them through these constants, never as literals. The event classes of
 * {@code io.jfrebpf.events} carry the same names in their {@code @Name} (a test holds the two
 * together); these constants need no {@code jdk.jfr}, so that readers without it (JMC's bundles)
 * can use them.
 */
public final class EventNames {
    public static final String SYSCALL_LATENCY = "ebpf.SyscallLatency";
    public static final String SYSCALL_STATISTICS = "ebpf.SyscallStatistics";
    public static final String FILE_OPEN = "ebpf.FileOpen";
    public static final String CPU_SAMPLE = "ebpf.CPUSample";
    public static final String OFF_CPU = "ebpf.OffCPU";
    public static final String VIRTUAL_THREAD_PINNED = "ebpf.VirtualThreadPinned";
    public static final String TCP_CONNECT = "ebpf.TcpConnect";
    public static final String TCP_CONNECTION = "ebpf.TcpConnection";
    public static final String TCP_RETRANSMIT = "ebpf.TcpRetransmit";
    public static final String NATIVE_ALLOCATION = "ebpf.NativeAllocation";
    public static final String NATIVE_LEAK = "ebpf.NativeLeak";
    public static final String RUN_QUEUE_LATENCY = "ebpf.RunQueueLatency";
    public static final String CPU_THROTTLE = "ebpf.CPUThrottle";
    public static final String POSTGRES_QUERY = "ebpf.PostgresQuery";
    public static final String CONTAINER_INFO = "ebpf.ContainerInfo";
    public static final String PROBE_STATUS = "ebpf.ProbeStatus";
    public static final String UPLOAD_STATUS = "ebpf.UploadStatus";

    /** Every name, in the catalog's order. */
    public static final List<String> ALL = List.of(SYSCALL_LATENCY, SYSCALL_STATISTICS, FILE_OPEN, CPU_SAMPLE, OFF_CPU,
            VIRTUAL_THREAD_PINNED, TCP_CONNECT, TCP_CONNECTION, TCP_RETRANSMIT, NATIVE_ALLOCATION, NATIVE_LEAK, RUN_QUEUE_LATENCY, CPU_THROTTLE,
            POSTGRES_QUERY, CONTAINER_INFO, PROBE_STATUS, UPLOAD_STATUS);

    /** The namespace of the catalog, and of the JMC rules' ids and settings. */
    public static final String PREFIX = "ebpf.";

    private EventNames() {
    }
}
