package io.jfrebpf.agent.libbpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** libbpf's calls that need no privileges (open, inspect, set tunables, close) through the typed classes. */
class BpfObjectTest {
    @Test
    void anOpenedObjectShowsItsProgramsMapsAndTunables() throws Exception {
        try (BpfObject object = BpfObject.openResource("cpu_sample")) {
            List<String> programs = object.programs().stream().map(BpfProgram::name).toList();
            assertTrue(programs.contains("cpu_sample"), programs.toString());
            BpfProgram program = object.program("cpu_sample");
            assertEquals("perf_event", program.sectionName());
            assertTrue(program.fd() < 0, "not loaded yet");
            BpfMap events = object.map("events");
            assertEquals("events", events.name());
            assertEquals(27, events.type()); // BPF_MAP_TYPE_RINGBUF
            assertTrue(events.fd() < 0, "not created before load");
            assertTrue(object.mapEndingWith(".rodata").name().endsWith(".rodata"));
            Rodata rodata = object.rodata();
            assertTrue(rodata.names().contains("targ_tgid"), rodata.names().toString());
            rodata.setInt("targ_tgid", 1234);
            BpfException wrongSize = assertThrows(BpfException.class, () -> rodata.setLong("targ_tgid", 1));
            assertTrue(wrongSize.getMessage().contains("4 bytes"), wrongSize.getMessage());
            BpfException missing = assertThrows(BpfException.class, () -> object.map("no_such_map"));
            assertTrue(missing.getMessage().contains("events"), missing.getMessage());
        }
    }

    @Test
    void libbpfsWarningExplainsAFailedOpen() {
        BpfException e = assertThrows(BpfException.class, () -> BpfObject.open("garbage", new byte[256]));
        assertTrue(e.getMessage().startsWith("bpf_object__open_mem(garbage) failed: E"), e.getMessage());
        assertTrue(e.getMessage().contains("(libbpf: "), "the warning came through the log callback: " + e.getMessage());
        assertTrue(e.errno() > 0);
    }

    @Test
    void aClosedObjectsMapsAreNotUsedAnyMore() throws Exception {
        BpfObject object = BpfObject.openResource("cpu_sample");
        BpfMap events = object.map("events");
        object.close();
        assertThrows(IllegalStateException.class, events::fd);
        object.close(); // twice is harmless
        assertFalse(object.isLoaded());
    }
}
