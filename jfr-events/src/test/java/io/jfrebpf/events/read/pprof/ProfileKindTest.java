package io.jfrebpf.events.read.pprof;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.jfrebpf.events.read.EventWeight;
import java.util.List;
import jdk.jfr.Name;
import org.junit.jupiter.api.Test;

/**
 * The profiles sent to Pyroscope weigh an event as the converter's flame graphs weigh it
 * ({@link EventWeight}): the last sample type of a kind is the flame graph's weight, except where
 * the two say otherwise on purpose.
 */
class ProfileKindTest {
    @Test
    void eachKindWeighsItsEventsAsTheFlameGraphDoes() {
        for (ProfileKind k : ProfileKind.values()) {
            Name name = k.event.getAnnotation(Name.class);
            assertNotNull(name, k.event.getName());
            // every profiled event has a duration but the samples and the memory events, which are weighed by their name
            EventWeight flame = EventWeight.of(name.value(), true);
            EventWeight profile = k.sampleTypes.get(k.sampleTypes.size() - 1).weight();
            switch (k) {
                // samples, sent as nanoseconds of the sampling period, as Pyroscope's Java CPU profiles are
                case CPU -> assertEquals(List.of(EventWeight.SAMPLES, EventWeight.NANOSECONDS), List.of(flame, profile), k.name());
                // a connection in a flame graph weighs its lifetime; Pyroscope gets its bytes sent and received
                case TCP -> assertEquals(List.of(EventWeight.NANOSECONDS, EventWeight.BYTES), List.of(flame, profile), k.name());
                default -> assertEquals(flame, profile, k.name());
            }
        }
    }

    @Test
    void unitsAreSpeltAsPprofSpellsThem() {
        assertEquals("process_cpu:cpu:nanoseconds:cpu:nanoseconds", ProfileKind.CPU.profileTypeId(ProfileKind.CPU.sampleTypes.get(0)));
        assertEquals("memory:malloc_objects:count::",
                ProfileKind.NATIVE_ALLOCATION.profileTypeId(ProfileKind.NATIVE_ALLOCATION.sampleTypes.get(0)));
        assertEquals("tcp:bytes_sent:bytes::", ProfileKind.TCP.profileTypeId(ProfileKind.TCP.sampleTypes.get(0)));
    }
}
