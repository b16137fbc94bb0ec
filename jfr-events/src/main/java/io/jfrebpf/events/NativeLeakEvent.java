package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;
import jdk.jfr.Unsigned;

/**
 * Native memory allocated at one stack and not freed at the report, counting allocations at least
 * {@code minimumAge} old: malloc.age, or by default 10 s or half the time traced when that is
 * shorter.
 */
@Name("ebpf.NativeLeak")
@FromProbe("malloc")
@Label("Native Leak Suspect")
@Description("Native memory allocated at one stack (malloc family) and still not freed when the report was made (end of the recording or of malloc.duration), counting only allocations at least minimumAge old; start time = the oldest one (duration = its age), thread = the thread that allocated most of it")
@Category({"eBPF", "Memory"})
public final class NativeLeakEvent extends EbpfEvent {
    @Label("Bytes")
    @Description("Estimated bytes outstanding: the sum of the weights of the sampled allocations")
    @DataAmount
    @Unsigned
    public long bytes;

    @Label("Allocations")
    @Description("Estimated allocations outstanding (each sample stands for weight / size of them)")
    @Unsigned
    public long allocations;

    @Label("Samples")
    @Description("Sampled allocations the estimate rests on: with few samples it is rough (relative error about 1 / sqrt(samples) for allocations below malloc.interval)")
    @Unsigned
    public long samples;

    @Label("Minimum Age")
    @Description("Allocations younger than this at the report were left out (they may yet be freed): malloc.age, or by default 10 s, or half the time the probe traced when that is shorter")
    @Timespan(Timespan.NANOSECONDS)
    public long minimumAge;
}
