package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A stretch of time a thread of this JVM spent off CPU, with the stack where it blocked. */
@Name("ebpf.OffCPU")
@FromProbe("offcpu")
@Label("Off-CPU")
@Description("Time a thread of this JVM spent off CPU (at least offcpu.threshold), from the moment it was switched out until it ran again, with the stack where it blocked; and, with offcpu.virtual=true, the time a virtual thread spent unmounted (state U). HotSpot's own threads (compilers, GC workers, the VM thread), which block to wait for work, are left out; their CPU time is in ebpf.CPUSample")
@Category({"eBPF", "CPU"})
public final class OffCPUEvent extends EbpfEvent implements OnCarrier {
    @Label("State")
    @Description("Task state when switched out: S sleeping (waits, sleeps, sockets), D uninterruptible (disk, some locks), R preempted while runnable, U (offcpu.virtual=true) a virtual thread unmounted from its carrier while it waited (parked on a lock, a sleep, a queue, socket I/O through the poller: from its unmount to its mount again, with the stack where it parked)")
    public String state;

    @Label("Carrier Thread")
    @Description("The platform thread the virtual thread was mounted on (its Java name); null when the event's thread is not virtual, or (state U) not mounted")
    public String carrierThread;

    @Override
    public void carrierThread(String name) {
        carrierThread = name;
    }
}
