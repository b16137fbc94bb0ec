package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import org.junit.jupiter.api.Test;

class PerfEventsTest {
    @Test
    void cpuLists() {
        assertEquals(List.of(0, 1), PerfEvents.parseCpuList("0-1"));
        assertEquals(List.of(0, 2, 3, 4, 7), PerfEvents.parseCpuList("0,2-4,7"));
        assertEquals(List.of(5), PerfEvents.parseCpuList("5\n".strip()));
        assertFalse(PerfEvents.onlineCpus().isEmpty());
    }
}
