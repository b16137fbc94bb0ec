package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import jdk.jfr.Unsigned;

/** CPU quota throttling of the JVM's cgroup over one period of the recording (about a second). */
@Name("ebpf.CPUThrottle")
@FromProbe("sched")
@Label("CPU Throttling")
@Description("The CPU bandwidth (quota) counters of this JVM's cgroup over one period of the recording: how many enforcement periods it ran in, in how many it used up its quota and was stopped, and for how long")
@Category({"eBPF", "CPU"})
@StackTrace(false)
public final class CPUThrottleEvent extends EbpfEvent {
    @Label("Periods")
    @Description("Enforcement periods (cpu.cfs_period_us, typically 100 ms) with runnable threads")
    @Unsigned
    public long periods;

    @Label("Throttled Periods")
    @Description("Periods in which the cgroup used up its quota and its threads were stopped until the next period")
    @Unsigned
    public long throttledPeriods;

    @Label("Throttled Time")
    @Description("Total time the cgroup's threads were stopped by the quota")
    @Timespan(Timespan.NANOSECONDS)
    public long throttledTime;
}
