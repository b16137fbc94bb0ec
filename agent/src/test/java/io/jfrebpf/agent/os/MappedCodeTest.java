package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MappedCodeTest {
    @Test
    void exeAndLibAreAdded() {
        assertEquals(144 + 1956, MappedCode.parse("Name:\tjava\nVmExe:\t     144 kB\nVmLib:\t    1956 kB\nVmPTE:\t 10 kB\n"));
        assertEquals(-1, MappedCode.parse("Name:\tjava\nVmExe:\t     144 kB\n"));
        assertEquals(-1, MappedCode.parse("VmExe:\tx kB\nVmLib:\t1 kB"));
        assertEquals(3, MappedCode.parse("VmExe:\t1 kB\nVmLib:\t2 kB"));
    }

    @Test
    void thisProcessMapsCode() {
        assertTrue(MappedCode.kb() > 0);
    }
}
