package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** One syscall of the traced JVM that took at least {@code syscall.threshold}. */
@Name("ebpf.SyscallLatency")
@FromProbe("syscall")
@Label("Syscall Latency")
@Description("A system call of this JVM that took at least the configured threshold")
@Category({"eBPF", "Syscalls"})
public final class SyscallLatencyEvent extends EbpfEvent implements OnCarrier {
    @Label("Syscall")
    @Description("Name of the system call, as the running kernel names it")
    public String syscall;

    @Label("Number")
    @Description("System call number on this architecture")
    public int number;

    @Label("Result")
    @Description("Raw return value: negative errno on failure")
    public long result;

    @Label("Carrier Thread")
    @Description("The platform thread the virtual thread was mounted on (its Java name); null when the event's thread is not virtual")
    public String carrierThread;

    @Override
    public void carrierThread(String name) {
        carrierThread = name;
    }
}
