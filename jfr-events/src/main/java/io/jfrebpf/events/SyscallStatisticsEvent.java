package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import jdk.jfr.Unsigned;

/** Every call of one syscall during one period, counted in the kernel. */
@Name("ebpf.SyscallStatistics")
@FromProbe("syscall")
@Label("Syscall Statistics")
@Description("Calls, errors and time of one system call of this JVM during one period, every call counted in the kernel")
@Category({"eBPF", "Syscalls"})
@StackTrace(false)
public final class SyscallStatisticsEvent extends EbpfEvent {
    @Label("Syscall")
    @Description("Name of the system call, as the running kernel names it")
    public String syscall;

    @Label("Number")
    @Description("System call number on this architecture")
    public int number;

    @Label("Count")
    @Description("Calls completed in the period")
    @Unsigned
    public long count;

    @Label("Errors")
    @Description("Calls that returned an error in the period")
    @Unsigned
    public long errors;

    @Label("Total Time")
    @Description("Time spent in the calls of the period")
    @Timespan(Timespan.NANOSECONDS)
    public long totalTime;

    @Label("Max Time")
    @Description("Longest call of the period")
    @Timespan(Timespan.NANOSECONDS)
    public long maxTime;

    @Label("Histogram")
    @Description("Calls per log2 duration bucket in the period, as space-separated 'lowerBoundNs:count' pairs")
    public String histogram;
}
