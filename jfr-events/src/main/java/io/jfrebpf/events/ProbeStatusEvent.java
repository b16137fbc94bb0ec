package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import jdk.jfr.Unsigned;

/** Whether a probe ran, why not, and how many events it delivered and lost. */
@Name("ebpf.ProbeStatus")
@FromProbe("agent")
@Label("Probe Status")
@Description("Whether an eBPF probe was attached, the reason if not, and its event and loss counts")
@Category({"eBPF", "Agent"})
@StackTrace(false)
public final class ProbeStatusEvent extends EbpfEvent {
    @Label("Probe")
    @Description("Probe name as in the probes= option")
    public String probe;

    @Label("Attached")
    public boolean attached;

    @Label("Reason")
    @Description("Why the probe is not attached, or how it is attached")
    public String reason;

    @Label("Events")
    @Description("Events delivered to the recording")
    @Unsigned
    public long events;

    @Label("Lost")
    @Description("Events dropped: ring buffer full or over a bound")
    @Unsigned
    public long lost;

    @Label("Attached After")
    @Description("How long after the JVM started the probe was attached (to the kernel's 10 ms resolution of a process's start): what happened before is not in the recording; 0 when not attached")
    @Timespan(Timespan.NANOSECONDS)
    public long attachedAfter;

    @Label("Virtual Threads")
    @Description("How this probe's events on virtual threads are named: by the virtual thread mounted at the event (read from HotSpot's JavaThread, the same under every garbage collector), or why they name their carrier")
    public String virtualThreads;
}
