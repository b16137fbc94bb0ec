package io.jfrebpf.jmc;

import io.jfrebpf.events.read.EventNames;
import java.util.List;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/** The container's CPU quota stopped the JVM: every thread waited for the next period. */
public final class CpuThrottleRule extends EbpfRule {
    static final TypedPreference<IQuantity> PERCENT = count("sched.throttled", "CPU throttling",
            "Percent of the quota periods throttled from which the rule reports", 5);

    public CpuThrottleRule() {
        super("CpuThrottle", "Container CPU Throttling", List.of(EventNames.CPU_THROTTLE), PERCENT);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        List<Events.Event> seconds = Events.of(items, EventNames.CPU_THROTTLE);
        if (seconds.isEmpty()) {
            return notApplicable(p, "No " + EventNames.CPU_THROTTLE + " events: record with probes=sched (opt-in) in a container with a CPU quota.");
        }
        long periods = seconds.stream().mapToLong(e -> e.number("periods")).sum();
        long throttled = seconds.stream().mapToLong(e -> e.number("throttledPeriods")).sum();
        long time = seconds.stream().mapToLong(e -> e.nanos("throttledTime")).sum();
        if (periods == 0 || throttled * 100 < periods * number(p, PERCENT)) {
            return ok(p, throttled + " of " + periods + " quota periods throttled.");
        }
        return result(p, WARNING, throttled + " of " + periods + " quota periods (" + (throttled * 100 / periods) + "%) throttled, "
                + ms(time) + " in all.",
                "When the cgroup uses its CPU quota before the period ends, all its threads stop until the next one: latency"
                        + " spikes of up to a period (often 100 ms), whatever the code does.",
                "Raise the CPU limit, or cap the JVM's parallelism to it (-XX:ActiveProcessorCount, GC and pool threads).");
    }
}
