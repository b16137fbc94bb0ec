package io.jfrebpf.jmc;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/** Where application threads spent their time blocked — not idle waits for work (park, wait, sleep, poll). */
public final class OffCpuHotSpotRule extends EbpfRule {
    static final TypedPreference<IQuantity> THRESHOLD = time("offcpu.hotspot", "Off-CPU hot spot",
            "A method in which application threads were blocked this long in all is reported", 1000);
    /** Innermost Java frames of threads that wait for work: idle by design. */
    static final Set<String> IDLE = Set.of("jdk.internal.misc.Unsafe.park", "java.lang.Object.wait0", "java.lang.Thread.sleepNanos0",
            "java.lang.Thread.sleep0", "sun.nio.ch.EPoll.wait", "sun.nio.ch.Net.poll", "sun.nio.ch.Net.accept",
            "java.lang.ref.Reference.waitForReferencePendingList", "sun.nio.ch.SocketDispatcher.read0", "java.lang.Thread.yield0",
            "(no Java frame)");

    public OffCpuHotSpotRule() {
        super("OffCpuHotSpot", "Off-CPU Hot Spots", THRESHOLD);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        List<Events.Event> stretches = Events.of(items, "ebpf.OffCPU");
        if (stretches.isEmpty()) {
            return notApplicable(p, "No ebpf.OffCPU events: record with probes=offcpu (on by default).");
        }
        Map<String, Long> blocked = new HashMap<>();
        for (Events.Event e : stretches) {
            String where = e.innermostJava();
            if (e.onApplicationThread() && !IDLE.contains(where)) {
                blocked.merge(where, e.durationNanos(), Long::sum);
            }
        }
        long threshold = nanos(p, THRESHOLD);
        if (blocked.isEmpty() || Events.top(blocked, 1).get(0).getValue() < threshold) {
            return ok(p, "No method kept application threads blocked for " + ms(threshold) + " in all (idle waits left out).");
        }
        Map.Entry<String, Long> top = Events.top(blocked, 1).get(0);
        return result(p, INFO + 10, "Application threads were blocked " + ms(top.getValue()) + " in " + top.getKey() + ".",
                "Time off CPU while not waiting for work: disk I/O (state D), lock contention, page faults, throttling — the kernel"
                        + " stack of the ebpf.OffCPU events says which.",
                "Open the off-CPU flame graph (converter flame --event ebpf.OffCPU) at the method named.");
    }
}
