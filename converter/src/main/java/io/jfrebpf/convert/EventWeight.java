package io.jfrebpf.convert;

import io.jfrebpf.events.read.EventNames;
import jdk.jfr.EventType;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordedEvent;

/**
 * What a stack of an event type weighs in a flame graph: one sample for samplers
 * ({@code ebpf.CPUSample}, {@code jdk.ExecutionSample}), the bytes for memory events
 * ({@code ebpf.NativeLeak}, {@code ebpf.NativeAllocation}, JDK allocation samples), the
 * duration in nanoseconds for events that have one (off-CPU, syscalls, opens, queries...),
 * else one per event.
 */
public enum EventWeight {
    SAMPLES("samples"), BYTES("bytes"), NANOSECONDS("ns"), EVENTS("events");

    private final String unit;

    EventWeight(String unit) {
        this.unit = unit;
    }

    public String unit() {
        return unit;
    }

    public static EventWeight of(EventType type) {
        String name = type.getName();
        switch (name) {
            case EventNames.CPU_SAMPLE, "jdk.ExecutionSample", "jdk.NativeMethodSample", "jdk.CPUTimeSample" -> {
                return SAMPLES;
            }
            case EventNames.NATIVE_LEAK, EventNames.NATIVE_ALLOCATION, "jdk.ObjectAllocationSample", "jdk.ObjectAllocationInNewTLAB",
                    "jdk.ObjectAllocationOutsideTLAB" -> {
                return BYTES;
            }
            default -> {
                return has(type, "duration") ? NANOSECONDS : EVENTS;
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
