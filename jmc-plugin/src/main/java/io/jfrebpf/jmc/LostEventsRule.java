package io.jfrebpf.jmc;

import io.jfrebpf.events.read.EventNames;
import java.util.List;
import java.util.stream.Collectors;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/** A recording that dropped events says so first: every count in the other rules is then a lower bound. */
public final class LostEventsRule extends EbpfRule {
    public LostEventsRule() {
        super("LostEvents", "eBPF Events Lost", List.of(EventNames.PROBE_STATUS));
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        List<Events.Event> status = Events.of(items, EventNames.PROBE_STATUS);
        if (status.isEmpty()) {
            return notApplicable(p, "The recording has no " + EventNames.PROBE_STATUS + " events (not made by jfr-ebpf, or cut before its end).");
        }
        List<Events.Event> lossy = status.stream().filter(e -> e.number("lost") > 0).toList();
        if (lossy.isEmpty()) {
            return ok(p, "No probe lost events.");
        }
        long lost = lossy.stream().mapToLong(e -> e.number("lost")).sum();
        String which = lossy.stream().map(e -> e.text("probe") + " (" + e.number("lost") + ")").collect(Collectors.joining(", "));
        return result(p, WARNING, "The probes lost " + lost + " events: " + which + ".",
                "When a probe's ring buffer is full the kernel drops the record and counts it; the application is never"
                        + " blocked. Every count and total computed from this recording is a lower bound.",
                "Raise the thresholds of the probes that lost events (syscall.threshold, offcpu.threshold, malloc.interval)"
                        + " or record fewer probes, so that fewer events are produced.");
    }
}
