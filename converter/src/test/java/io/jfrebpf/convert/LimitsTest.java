package io.jfrebpf.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LimitsTest {
    @Test
    void defaultsCatchARealRegressionAndIgnoreNoise() {
        Limits d = Limits.defaults();
        assertEquals(10, d.cpuPoints());
        assertEquals(2, d.syscallP99());
        assertEquals(1.5, d.queryP99());
    }

    @Test
    void limitsAreKeyValueOrOff() {
        Limits l = Limits.parse(List.of("cpu=25", "query.p99=3x", "syscall.p99=off", "leak=4"));
        assertEquals(25, l.cpuPoints());
        assertEquals(3, l.queryP99());
        assertTrue(Double.isNaN(l.syscallP99()));
        assertEquals(4, l.leakedBytes());
        assertEquals(1.5, l.connectionBytes());
    }

    @Test
    void badLimitsNameTheKeyAndTheAcceptedValues() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Limits.parse(List.of("cpu=lots"))).getMessage()
                .contains("limit cpu has bad value 'lots'; percentage points above 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Limits.parse(List.of("query.p99=0.5"))).getMessage()
                .contains("a ratio of at least 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Limits.parse(List.of("speed=2"))).getMessage()
                .contains("'speed=2' is not a limit; limits: cpu=10"));
    }
}
