package io.jfrebpf.events.read;

import jdk.jfr.EventType;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordedEvent;

/**
 * What a stack of an event type weighs in a flame graph: one sample for samplers
 * ({@code ebpf.CPUSample}, {@code jdk.ExecutionSample}), the bytes for memory events
 * ({@code ebpf.NativeLeak}, {@code ebpf.NativeAllocation}, JDK allocation samples), the
 * duration in nanoseconds for events that have one (off-CPU, syscalls, opens, queries...),
 * else one per event. The profiles sent to Pyroscope weigh in the same units
 * ({@link io.jfrebpf.events.read.pprof.ProfileKind}; {@link #pprofUnit()}). For readers with
 * jdk.jfr (not in the JMC plugin's bundle).
 */
public enum EventWeight {
    SAMPLES("samples", "count"), BYTES("bytes", "bytes"), NANOSECONDS("ns", "nanoseconds"), EVENTS("events", "count");

    private final String unit;
    private final String pprofUnit;

    EventWeight(String unit, String pprofUnit) {
        this.unit = unit;
        this.pprofUnit = pprofUnit;
    }

    /** The unit as the converter's tables and flame graphs print it. */
    public String unit() {
        return unit;
    }

    /** The unit as a pprof profile's sample type names it. */
    public String pprofUnit() {
        return pprofUnit;
    }

    public static EventWeight of(EventType type) {
        return of(type.getName(), has(type, "duration"));
    }

    /** The weight of an event type by its name, and whether it has a duration. */
    public static EventWeight of(String name, boolean hasDuration) {
        switch (name) {
            case EventNames.CPU_SAMPLE, "jdk.ExecutionSample", "jdk.NativeMethodSample", "jdk.CPUTimeSample" -> {
                return SAMPLES;
            }
            case EventNames.NATIVE_LEAK, EventNames.NATIVE_ALLOCATION, "jdk.ObjectAllocationSample", "jdk.ObjectAllocationInNewTLAB",
                    "jdk.ObjectAllocationOutsideTLAB" -> {
                return BYTES;
            }
            default -> {
                return hasDuration ? NANOSECONDS : EVENTS;
            }
        }
    }

    /** The weight of one event. */
    public long of(RecordedEvent e) {
        return switch (this) {
            case SAMPLES, EVENTS -> 1;
            case NANOSECONDS -> Math.max(0, e.getDuration().toNanos());
            case BYTES -> bytes(e);
        };
    }

    private static long bytes(RecordedEvent e) {
        for (String field : new String[] {"bytes", "weight", "allocationSize", "tlabSize"}) {
            if (e.hasField(field)) {
                return Math.max(0, e.getLong(field));
            }
        }
        return 1;
    }

    private static boolean has(EventType type, String field) {
        for (ValueDescriptor d : type.getFields()) {
            if (d.getName().equals(field)) {
                return true;
            }
        }
        return false;
    }
}
