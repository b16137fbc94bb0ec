package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfMap;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.BpfProgram;
import io.jfrebpf.bpf.KernelNamesLayout;
import io.jfrebpf.bpf.KernelNamesLayout.KernelNameBatch;
import io.jfrebpf.bpf.KernelNamesObject;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Kernel functions named by the kernel itself: bpf/kernel_names.bpf.c runs {@code bpf_snprintf}'s
 * {@code %pS} (kallsyms' own lookup, as an oops prints a frame) over a batch of pcs, one
 * BPF_PROG_TEST_RUN per batch of up to 64. Nothing is read up front: the ~120,000 lines of
 * {@code /proc/kallsyms} stay unread, and only the functions stacks pass through are named —
 * BPF programs and modules loaded later included, with their exact bounds (kallsyms has no
 * sizes). Needs a syscall program (Linux 5.14) and {@code bpf_snprintf} (5.13).
 */
final class KernelNames implements KernelFunctions {
    private static final int BATCH = (int) KernelNamesLayout.KERNEL_NAMES_BATCH;
    private static final int NAME_LEN = (int) KernelNamesLayout.KERNEL_NAME_LEN;

    private final BpfObject object;
    private final BpfProgram program;
    private final BpfMap batch;
    private final MemorySegment key;
    private final MemorySegment value;
    private final byte[] name = new byte[NAME_LEN];
    private boolean closed;

    private KernelNames(BpfObject object) throws BpfException {
        this.object = object;
        this.program = object.program(KernelNamesObject.Programs.KERNEL_NAMES);
        this.batch = object.mapEndingWith(".bss");
        if (batch.valueSize() != KernelNameBatch.SIZE) {
            throw new BpfException("kernel_names: .bss of " + batch.valueSize() + " bytes, the layout says " + KernelNameBatch.SIZE, 0);
        }
        Arena arena = Arena.ofAuto(); // freed with this object: a shared arena's close would stop every thread
        this.key = arena.allocateFrom(ValueLayout.JAVA_INT, 0);
        this.value = arena.allocate(KernelNameBatch.SIZE, 8);
    }

    /** Loads the program; throws (unchecked) with the reason when this kernel or user cannot. */
    static KernelNames load() {
        BpfObject object = null;
        try {
            object = BpfObject.openResource(KernelNamesObject.OBJECT);
            object.load();
            KernelNames names = new KernelNames(object);
            object = null;
            return names;
        } catch (BpfException | IOException e) {
            throw new IllegalStateException("kernel_names: " + e.getMessage(), e);
        } finally {
            if (object != null) {
                object.close();
            }
        }
    }

    @Override
    public synchronized void resolve(long[] pcs, int count, long[] starts, String[] names) {
        for (int from = 0; from < count; from += BATCH) {
            int n = Math.min(BATCH, count - from);
            if (closed || !run(pcs, from, n)) {
                for (int i = from; i < from + n; i++) {
                    starts[i] = 0;
                    names[i] = null;
                }
                continue;
            }
            for (int i = 0; i < n; i++) {
                int length = value.get(ValueLayout.JAVA_INT, KernelNameBatch.LENGTHS + 4L * i);
                MemorySegment.copy(value, ValueLayout.JAVA_BYTE, KernelNameBatch.NAMES + (long) NAME_LEN * i, name, 0, NAME_LEN);
                parse(pcs[from + i], name, length, starts, names, from + i);
            }
        }
    }

    private boolean run(long[] pcs, int from, int n) {
        value.set(ValueLayout.JAVA_INT, KernelNameBatch.COUNT, n);
        MemorySegment.copy(pcs, from, value, ValueLayout.JAVA_LONG, KernelNameBatch.PCS, n);
        try {
            batch.update(key, value);
            program.testRun();
            return batch.lookup(key, value);
        } catch (BpfException e) {
            return false;
        }
    }

    /**
     * One {@code %pS}: {@code name+0xoffset/0xsize}, then {@code " [module]"} for a module's
     * text; a bare {@code 0x...} where no symbol holds the pc; a negative length on failure. A
     * name cut at the buffer's end, or any other shape, leaves the pc unresolved: never a guess.
     */
    static void parse(long pc, byte[] text, int length, long[] starts, String[] names, int at) {
        starts[at] = 0;
        names[at] = null;
        if (length <= 1 || length > text.length) {
            return; // failed, empty, or cut
        }
        int end = length - 1; // bpf_snprintf counts the NUL
        int plus = -1;
        for (int i = 0; i < end; i++) {
            byte b = text[i];
            if (b == '+') {
                plus = i;
                break;
            }
            if (b == ' ' || b == 0) {
                return;
            }
        }
        if (plus <= 0 || plus + 3 >= end || text[plus + 1] != '0' || text[plus + 2] != 'x') {
            return;
        }
        long offset = 0;
        int i = plus + 3;
        int digits = i;
        for (; i < end && text[i] != '/'; i++) {
            int d = Character.digit(text[i], 16);
            if (d < 0 || (offset >>> 60) != 0) {
                return;
            }
            offset = offset << 4 | d;
        }
        if (i == digits || i == end || offset < 0 || Long.compareUnsigned(offset, pc) > 0) {
            return;
        }
        starts[at] = pc - offset;
        names[at] = new String(text, 0, plus, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            object.close();
        }
    }
}
