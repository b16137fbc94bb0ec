package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class OffCpuRecordTest {
    @Test
    void statesAsPsShowsThem() {
        assertEquals("R", OffCpuRecord.stateName(0));
        assertEquals("S", OffCpuRecord.stateName(1));
        assertEquals("D", OffCpuRecord.stateName(2));
        assertEquals("S", OffCpuRecord.stateName(1 | 256)); // TASK_KILLABLE-style extra bits
        assertEquals("I", OffCpuRecord.stateName(2 | 1024));
        assertEquals("T", OffCpuRecord.stateName(4));
        assertEquals("0x800", OffCpuRecord.stateName(0x800));
    }
}
