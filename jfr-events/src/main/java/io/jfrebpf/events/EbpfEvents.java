package io.jfrebpf.events;

import java.util.List;

/** The event catalog: every type the agent writes. */
public final class EbpfEvents {
    private EbpfEvents() {
    }

    public static final List<Class<? extends EbpfEvent>> ALL = List.of(
            SyscallLatencyEvent.class,
            SyscallStatisticsEvent.class,
            FileOpenEvent.class,
            CPUSampleEvent.class,
            OffCPUEvent.class,
            VirtualThreadPinnedEvent.class,
            TcpConnectEvent.class,
            TcpConnectionEvent.class,
            TcpRetransmitEvent.class,
            NativeAllocationEvent.class,
            NativeLeakEvent.class,
            RunQueueLatencyEvent.class,
            CPUThrottleEvent.class,
            PostgresQueryEvent.class,
            ContainerInfoEvent.class,
            ProbeStatusEvent.class,
            UploadStatusEvent.class);
}
