package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** A virtual thread that tried to unmount (to park) and could not: it blocks its carrier for the wait. */
@Name("ebpf.VirtualThreadPinned")
@FromProbe("offcpu")
@Label("Virtual Thread Pinned")
@Description("A virtual thread that tried to unmount from its carrier to wait (park, sleep, a lock, socket I/O) and could not, with the stack where it tried (the pinning frame in it) and why: it waits mounted, blocking its carrier, and that wait is the ebpf.OffCPU of the virtual thread that follows on the carrier. Recorded with offcpu.virtual=true. One instant event per failed unmount, whatever the wait's length (JFR's jdk.VirtualThreadPinned has its duration)")
@Category({"eBPF", "CPU"})
public final class VirtualThreadPinnedEvent extends EbpfEvent implements OnCarrier {
    @Label("Reason")
    @Description("Why it stayed mounted: native frame (a native method, an FFM upcall or a class initializer on its stack), critical section (the JDK pinned it), monitor held, or HotSpot's freeze_result number when it is none of these")
    public String reason;

    @Label("Carrier Thread")
    @Description("The platform thread the virtual thread was mounted on (its Java name)")
    public String carrierThread;

    @Override
    public void carrierThread(String name) {
        carrierThread = name;
    }
}
