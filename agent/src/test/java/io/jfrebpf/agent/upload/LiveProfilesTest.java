package io.jfrebpf.agent.upload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.events.CPUSampleEvent;
import io.jfrebpf.events.NativeAllocationEvent;
import io.jfrebpf.events.OffCPUEvent;
import io.jfrebpf.events.TcpConnectEvent;
import io.jfrebpf.events.TcpConnectionEvent;
import io.jfrebpf.events.read.pprof.ProfileKind;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LiveProfilesTest {
    static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");

    static JfrStack stack(String method) {
        return new JfrStack(List.of(new JfrFrame("com.example.Shop", method, "()V", 1, 1, "JIT compiled")), false);
    }

    @Test
    void eventsAddUpPerKindAndStackWhateverTheirOrder() {
        LiveProfiles live = new LiveProfiles(T0);
        live.add(new OffCPUEvent(), 5_000, stack("sleep"));
        live.add(new CPUSampleEvent(), 0, stack("burn"));
        live.add(new CPUSampleEvent(), 0, stack("burn"));
        live.add(new OffCPUEvent(), 7_000, stack("sleep"));
        TcpConnectionEvent c = new TcpConnectionEvent();
        c.bytesSent = 100;
        c.bytesReceived = 2_000;
        live.add(c, 1_000_000, stack("call"));
        NativeAllocationEvent a = new NativeAllocationEvent();
        a.size = 64;
        a.weight = 512 * 1024; // one sample stands for 8192 allocations of 64 bytes
        live.add(a, 0, stack("malloc"));
        live.add(new TcpConnectEvent(), 9, stack("connect")); // not a profiled kind
        LiveProfiles.Period p = live.take(T0.plusSeconds(10));
        assertEquals(T0, p.from());
        assertEquals(T0.plusSeconds(10), p.until());
        assertEquals(List.of(ProfileKind.CPU, ProfileKind.OFF_CPU, ProfileKind.TCP, ProfileKind.NATIVE_ALLOCATION),
                List.copyOf(p.stacks().keySet()), "in the kinds' order, not the events'");
        assertArrayEquals(new long[] {2}, p.stacks().get(ProfileKind.CPU).get(stack("burn")));
        assertArrayEquals(new long[] {12_000}, p.stacks().get(ProfileKind.OFF_CPU).get(stack("sleep")));
        assertArrayEquals(new long[] {100, 2_000}, p.stacks().get(ProfileKind.TCP).get(stack("call")));
        assertArrayEquals(new long[] {8192, 512 * 1024}, p.stacks().get(ProfileKind.NATIVE_ALLOCATION).get(stack("malloc")));
        LiveProfiles.Period next = live.take(T0.plusSeconds(20));
        assertTrue(next.isEmpty(), "the next period starts empty");
        assertEquals(T0.plusSeconds(10), next.from());
    }

    @Test
    void pastTheBoundNewStacksFoldIntoOnePlaceholderAndKeepTheirWeight() {
        LiveProfiles live = new LiveProfiles(T0);
        for (int i = 0; i < LiveProfiles.MAX_STACKS + 100; i++) {
            live.add(new CPUSampleEvent(), 0, stack("m" + i));
        }
        live.add(new CPUSampleEvent(), 0, stack("m0")); // a stack already there still counts there
        Map<JfrStack, long[]> cpu = live.take(T0.plusSeconds(1)).stacks().get(ProfileKind.CPU);
        assertEquals(LiveProfiles.MAX_STACKS + 1, cpu.size());
        assertArrayEquals(new long[] {100}, cpu.get(LiveProfiles.FOLDED));
        assertArrayEquals(new long[] {2}, cpu.get(stack("m0")));
        assertEquals(100, live.folded());
        live.add(new CPUSampleEvent(), 0, stack("fresh"));
        assertEquals(1, live.take(T0.plusSeconds(2)).stacks().get(ProfileKind.CPU).size(), "each period has its own bound");
    }
}
