package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** One cpu-clock tick that found a thread of this JVM running: where it was, user or kernel. */
@Name("ebpf.CPUSample")
@FromProbe("cpu")
@Label("CPU Sample")
@Description("A thread of this JVM found on a CPU by the kernel's cpu-clock timer (cpu.hz per CPU), with its mixed Java/native/kernel stack")
@Category({"eBPF", "CPU"})
public final class CPUSampleEvent extends EbpfEvent implements OnCarrier {
    @Label("CPU")
    @Description("The CPU the thread ran on")
    public int cpu;

    @Label("State")
    @Description("user: running its own code; kernel: in the kernel on its behalf (syscalls, page faults)")
    public String state;

    @Label("Carrier Thread")
    @Description("The platform thread the virtual thread was mounted on (its Java name); null when the event's thread is not virtual")
    public String carrierThread;

    @Override
    public void carrierThread(String name) {
        carrierThread = name;
    }
}
