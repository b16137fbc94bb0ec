package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.Log;

/**
 * Which kernel function holds a kernel text address, for the kernel frames of stacks. The
 * kernel names its own addresses when it can ({@link KernelNames}: a BPF program, nothing read
 * up front); otherwise the agent reads and indexes {@code /proc/kallsyms} ({@link KernelSymbols}).
 */
interface KernelFunctions extends AutoCloseable {
    /**
     * Names {@code pcs[0..count)}: {@code starts[i]} becomes the start address of the function
     * holding {@code pcs[i]} and {@code names[i]} its name, or 0 and null where none does.
     */
    void resolve(long[] pcs, int count, long[] starts, String[] names);

    /** Frees what naming holds (a loaded program); later calls leave every pc unresolved. */
    @Override
    void close();

    /** The kernel's own names where this kernel and user allow them, else kallsyms'. */
    static KernelFunctions open() {
        try {
            return KernelNames.load();
        } catch (RuntimeException | LinkageError e) {
            Log.info("kernel frames are named from /proc/kallsyms (read and indexed once, ~5 MB): the kernel cannot name"
                    + " them itself here (%s)", e.getMessage());
            return KernelSymbols.load();
        }
    }
}
