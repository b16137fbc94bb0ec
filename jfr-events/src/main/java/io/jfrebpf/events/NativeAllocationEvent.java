package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.Unsigned;

/** One sampled native allocation (malloc family) of the traced JVM. */
@Name("ebpf.NativeAllocation")
@FromProbe("malloc")
@Label("Native Allocation")
@Description("A sampled call of malloc, calloc, realloc, posix_memalign, aligned_alloc or memalign in this JVM, with the stack of its caller; each allocation is sampled with probability min(1, size / malloc.interval), so the weights add up to the bytes allocated")
@Category({"eBPF", "Memory"})
public final class NativeAllocationEvent extends EbpfEvent {
    @Label("Address")
    @MemoryAddress
    public long address;

    @Label("Size")
    @Description("Bytes asked for")
    @DataAmount
    @Unsigned
    public long size;

    @Label("Weight")
    @Description("Bytes this sample stands for: max(size, malloc.interval), or the size when every call is sampled")
    @DataAmount
    @Unsigned
    public long weight;

    @Label("Function")
    @Description("The libc function called: malloc, calloc, realloc, posix_memalign or aligned_alloc (memalign is the same function)")
    public String function;
}
