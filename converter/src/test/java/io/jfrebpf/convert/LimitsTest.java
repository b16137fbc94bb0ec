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
        assertEquals(1.25, d.cpuTotal());
        assertEquals(1.5, d.cpuMethod());
        assertTrue(Double.isNaN(d.cpuShare()), "shares are shown, not a limit, unless asked for");
        assertEquals(50, d.cpuMin());
        assertEquals(4, d.cpuNoise());
        assertEquals(2, d.syscallP99());
        assertEquals(1.5, d.queryP99());
        assertEquals(1.5, d.queryTotal());
    }

    @Test
    void limitsAreKeyValueOrOff() {
        Limits l = Limits.parse(List.of("cpu.total=1.1", "cpu.method=2x", "cpu.share=25", "cpu.min=200", "cpu.noise=3", "query.p99=3x",
                "syscall.p99=off", "leak=4", "query.total=off"));
        assertEquals(1.1, l.cpuTotal());
        assertEquals(2, l.cpuMethod());
        assertEquals(25, l.cpuShare());
        assertEquals(200, l.cpuMin());
        assertEquals(3, l.cpuNoise());
        assertEquals(3, l.queryP99());
        assertTrue(Double.isNaN(l.syscallP99()));
        assertTrue(Double.isNaN(l.queryTotal()));
        assertEquals(4, l.leakedBytes());
        assertEquals(1.5, l.connectionBytes());
        assertEquals(10, Limits.parse(List.of("cpu=10")).cpuShare(), "cpu= is the share limit's former name");
    }

    @Test
    void badLimitsNameTheKeyAndTheAcceptedValues() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Limits.parse(List.of("cpu=lots"))).getMessage()
                .contains("limit cpu has bad value 'lots'; percentage points above 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Limits.parse(List.of("query.p99=0.5"))).getMessage()
                .contains("a ratio of at least 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Limits.parse(List.of("cpu.total=0.9"))).getMessage()
                .contains("a ratio of at least 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Limits.parse(List.of("cpu.min=2.5"))).getMessage()
                .contains("a whole number of samples"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Limits.parse(List.of("cpu.min=off"))).getMessage()
                .contains("a whole number of samples"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Limits.parse(List.of("speed=2"))).getMessage()
                .contains("'speed=2' is not a limit; limits: cpu.total=1.25"));
    }
}
