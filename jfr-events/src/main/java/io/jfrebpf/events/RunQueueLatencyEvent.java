package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A wait of a thread of the traced JVM in the run queue: runnable, not running. */
@Name("ebpf.RunQueueLatency")
@FromProbe("sched")
@Label("Run Queue Latency")
@Description("Time a thread of this JVM waited to run after it became runnable (woken up, or taken off a CPU while runnable: preempted, or throttled by its cgroup's CPU quota), at or above sched.threshold; stack = where it was when it stopped running")
@Category({"eBPF", "CPU"})
public final class RunQueueLatencyEvent extends EbpfEvent implements OnCarrier {
    @Label("CPU")
    @Description("The CPU it then ran on")
    public int cpu;

    @Label("Preempted")
    @Description("True when it was taken off a CPU while still runnable (preemption, CPU quota throttling, yield); false when it had slept and was woken up")
    public boolean preempted;

    @Label("Carrier Thread")
    @Description("The platform thread the virtual thread was mounted on (its Java name); null when the event's thread is not virtual")
    public String carrierThread;

    @Override
    public void carrierThread(String name) {
        carrierThread = name;
    }
}
