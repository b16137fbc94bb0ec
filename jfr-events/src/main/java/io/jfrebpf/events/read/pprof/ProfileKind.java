package io.jfrebpf.events.read.pprof;

import io.jfrebpf.events.CPUSampleEvent;
import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.FileOpenEvent;
import io.jfrebpf.events.NativeAllocationEvent;
import io.jfrebpf.events.NativeLeakEvent;
import io.jfrebpf.events.OffCPUEvent;
import io.jfrebpf.events.PostgresQueryEvent;
import io.jfrebpf.events.RunQueueLatencyEvent;
import io.jfrebpf.events.SyscallLatencyEvent;
import io.jfrebpf.events.TcpConnectionEvent;
import io.jfrebpf.events.read.EventWeight;
import java.util.List;

/**
 * Which events become which Pyroscope profile type. A profile type is
 * {@code <name>:<sample type>:<unit>:<period type>:<period unit>}; each upload holds one kind, so
 * that its name never depends on which events came first (the server names a whole upload after
 * its sample types: grafana/pyroscope pkg/og/convert/pprof/profile.go, metricName).
 *
 * <p>CPU samples are typed as Pyroscope's own Java CPU profiles ({@code process_cpu:cpu:nanoseconds:cpu:nanoseconds},
 * the samples times the sampling period: grafana/jfr-parser pprof/pprof.go), native allocations as
 * its native-memory ones ({@code memory:malloc_objects:count::}, {@code memory:malloc_bytes:bytes::}).
 * The other kinds have names of their own. Their name is given as each sample type's
 * {@code display-name} in the upload's {@code sample_type_config}, the way Pyroscope's Go client
 * tells a block profile from a mutex one: the server takes the display name of the last sample
 * type that matches none of its known patterns. So no name of ours may contain "cpu" (anything
 * with it becomes process_cpu), "alloc_", "inuse_", "mutex_", "block_" or "goroutines": off-CPU
 * time is therefore {@code block:off_cpu:nanoseconds::}, beside the JVM's thread-park profile
 * ({@code block:delay:...}), with the server's own name for off-CPU time as its sample type.
 *
 * <p>Each sample type weighs in an {@link EventWeight}, and a kind's last one is what the
 * converter's flame graphs weigh its events by, but for two on purpose: CPU samples are sent as
 * nanoseconds of the sampling period, and a TCP connection weighs its bytes here, its lifetime in
 * a flame graph (ProfileKindTest holds the two together).
 */
public enum ProfileKind {
    CPU(CPUSampleEvent.class, "process_cpu", List.of(new SampleType("cpu", EventWeight.NANOSECONDS)), new SampleType("cpu", EventWeight.NANOSECONDS)),
    OFF_CPU(OffCPUEvent.class, "block", List.of(new SampleType("off_cpu", EventWeight.NANOSECONDS)), null),
    RUN_QUEUE(RunQueueLatencyEvent.class, "runqueue", List.of(new SampleType("delay", EventWeight.NANOSECONDS)), null),
    SYSCALL(SyscallLatencyEvent.class, "syscall", List.of(new SampleType("time", EventWeight.NANOSECONDS)), null),
    FILE_OPEN(FileOpenEvent.class, "file", List.of(new SampleType("open_time", EventWeight.NANOSECONDS)), null),
    TCP(TcpConnectionEvent.class, "tcp", List.of(new SampleType("bytes_sent", EventWeight.BYTES), new SampleType("bytes_received", EventWeight.BYTES)), null),
    POSTGRES(PostgresQueryEvent.class, "postgres", List.of(new SampleType("query_time", EventWeight.NANOSECONDS)), null),
    NATIVE_ALLOCATION(NativeAllocationEvent.class, "memory",
            List.of(new SampleType("malloc_objects", EventWeight.EVENTS), new SampleType("malloc_bytes", EventWeight.BYTES)), null),
    NATIVE_LEAK(NativeLeakEvent.class, "memory", List.of(new SampleType("leak_objects", EventWeight.EVENTS), new SampleType("leak_bytes", EventWeight.BYTES)), null);

    /** A pprof ValueType: what a value counts, and in what unit (the converter's, {@link EventWeight}). */
    public record SampleType(String type, EventWeight weight) {
        /** The unit as pprof names it. */
        public String unit() {
            return weight.pprofUnit();
        }
    }

    public final Class<? extends EbpfEvent> event;
    /** The profile's name in Pyroscope ({@code __name__}). */
    public final String profileName;
    public final List<SampleType> sampleTypes;
    /** The period type: CPU samples only, as Pyroscope's Java CPU profiles have it. */
    public final SampleType periodType;

    ProfileKind(Class<? extends EbpfEvent> event, String profileName, List<SampleType> sampleTypes, SampleType periodType) {
        this.event = event;
        this.profileName = profileName;
        this.sampleTypes = sampleTypes;
        this.periodType = periodType;
    }

    /** The kind of an event, or null when it is not profiled. */
    public static ProfileKind of(EbpfEvent e) {
        for (ProfileKind k : values()) {
            if (k.event == e.getClass()) {
                return k;
            }
        }
        return null;
    }

    /**
     * Adds what one event weighs to {@code values} (one per sample type). CPU samples are counted
     * here and become nanoseconds in {@link Pprof} (times the sampling period).
     */
    public void add(EbpfEvent e, long durationNs, long[] values) {
        switch (this) {
            case CPU -> values[0]++;
            case TCP -> {
                TcpConnectionEvent c = (TcpConnectionEvent) e;
                values[0] += Math.max(0, c.bytesSent);
                values[1] += Math.max(0, c.bytesReceived);
            }
            case NATIVE_ALLOCATION -> {
                NativeAllocationEvent a = (NativeAllocationEvent) e;
                long weight = Math.max(0, a.weight);
                values[0] += a.size > 0 ? Math.max(1, weight / a.size) : 1; // allocations this sample stands for
                values[1] += weight;
            }
            case NATIVE_LEAK -> {
                NativeLeakEvent l = (NativeLeakEvent) e;
                values[0] += Math.max(0, l.allocations);
                values[1] += Math.max(0, l.bytes);
            }
            default -> values[0] += Math.max(0, durationNs);
        }
    }

    /** {@code name:type:unit:periodType:periodUnit}, as Grafana lists it and a query selects it. */
    public String profileTypeId(SampleType t) {
        return profileName + ":" + t.type() + ":" + t.unit() + ":" + (periodType == null ? ":" : periodType.type() + ":" + periodType.unit());
    }

    /**
     * The {@code sample_type_config} part: each sample type's display name is the profile's name,
     * which the server then takes as {@code __name__}.
     */
    public String sampleTypeConfig() {
        StringBuilder b = new StringBuilder("{");
        for (SampleType t : sampleTypes) {
            if (b.length() > 1) {
                b.append(',');
            }
            b.append('"').append(t.type()).append("\":{\"display-name\":\"").append(profileName).append("\"}");
        }
        return b.append('}').toString();
    }
}
