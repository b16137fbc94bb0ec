package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.AddressIndex;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Kernel text symbols ({@code t T w W}) from {@code /proc/kallsyms}, sorted by address for
 * lookup: how kernel frames are named where the kernel cannot name them itself ({@link KernelNames}).
 * Read once, when the first kernel frame needs a name: parsed from the bytes (no String
 * per line), the addresses on the heap (12 bytes a symbol, with where its name is: 1.5 MB for
 * this machine's 121,000), the names NUL-terminated off the heap (3 MB here), freed with this
 * object. A name becomes a String only when {@link #name} returns it. Without the
 * addresses (kptr_restrict hides them from this user) every kernel frame stays unresolved and
 * shows its address.
 */
public final class KernelSymbols implements KernelFunctions {
    /**
     * The farthest an address is taken to belong to the symbol before it: kallsyms has no sizes,
     * and past the kernel's last symbol lie BPF programs and modules loaded after it was read.
     */
    static final long MAX_FUNCTION_SIZE = 64 * 1024;
    /** Names are packed in blocks of this many bytes; a name's place is (block, offset) in one int. */
    private static final int BLOCK_BITS = 20;
    private static final int BLOCK = 1 << BLOCK_BITS;
    /** Bounds on what one read keeps: far above any kernel's (a 6.x kernel with modules: ~200,000 text symbols). */
    static final int MAX_SYMBOLS = 1 << 22;
    private static final int MAX_BLOCKS = 64;
    /** Longer lines are skipped (the kernel's names are at most 512 bytes). */
    private static final int MAX_LINE = 4096;

    private final AddressIndex index;
    private final MemorySegment[] blocks;
    private final long offHeapBytes;

    private KernelSymbols(AddressIndex index, MemorySegment[] blocks) {
        this.index = index;
        this.blocks = blocks;
        this.offHeapBytes = Arrays.stream(blocks).mapToLong(MemorySegment::byteSize).sum();
    }

    public static KernelSymbols load() {
        return load(Path.of("/proc/kallsyms"));
    }

    /** Never throws: what cannot be read stays unresolved, with a line saying why. */
    static KernelSymbols load(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return load(ch, file.toString());
        } catch (IOException | RuntimeException e) {
            Log.warn("kernel frames stay unresolved: cannot read %s (%s)", file, e.getMessage());
            return new KernelSymbols(AddressIndex.of(new long[0], new int[0], 0), new MemorySegment[0]);
        }
    }

    /** The symbols of a kallsyms text; a read that fails midway keeps the lines before it. */
    static KernelSymbols load(ReadableByteChannel ch, String what) {
        Parser p = new Parser();
        try {
            p.read(ch);
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            Log.warn("kernel symbols: reading %s stopped after %d of them (%s)", what, p.count, e.getMessage());
        }
        p.finish();
        if (p.full) {
            Log.warn("%s: only the first %d kernel symbols are kept", what, p.count);
        }
        if (p.count == 0) {
            Log.info("kernel frames stay unresolved: %s shows no addresses to this user (kptr_restrict)", what);
        }
        return new KernelSymbols(AddressIndex.of(p.addresses, p.names, p.count), p.blocks());
    }

    /**
     * The lines of kallsyms, from its bytes: {@code <hex address> <type> <name>[\t[module]]}.
     * Plain array work a byte (no call, no object): the 5 MB are read once, before the JIT has
     * compiled anything of it.
     */
    private static final class Parser {
        private static final byte[] HEX = new byte[256];

        static {
            java.util.Arrays.fill(HEX, (byte) -1);
            for (int i = 0; i < 16; i++) {
                HEX["0123456789abcdef".charAt(i)] = (byte) i;
                HEX["0123456789ABCDEF".charAt(i)] = (byte) i;
            }
        }

        long[] addresses = new long[1 << 17];
        int[] names = new int[1 << 17];
        int count;
        boolean full;
        private final List<MemorySegment> blocks = new ArrayList<>();
        /** The names of the block being filled, copied off the heap when it is. */
        private final byte[] block = new byte[BLOCK];
        private int used;

        /** Set when a line runs past MAX_LINE: the rest of it, to its end, is skipped. */
        private boolean skipping;

        void read(ReadableByteChannel ch) throws IOException {
            byte[] buf = new byte[1 << 16];
            ByteBuffer bb = ByteBuffer.wrap(buf);
            while (!full) {
                int n = ch.read(bb);
                int end = bb.position();
                int start = lines(buf, end);
                if (n < 0) {
                    if (!skipping && start < end) {
                        line(buf, start, end);
                    }
                    break;
                }
                if (end - start > MAX_LINE) {
                    skipping = true;
                    start = end;
                }
                System.arraycopy(buf, start, buf, 0, end - start);
                bb.position(end - start);
            }
        }

        /**
         * The whole lines of buf's first {@code end} bytes; where the last, unfinished one
         * starts. The pass over the bytes is a method of its own, apart from the reads: the JIT
         * compiles the loop alone (compiled in the middle of {@link #read}, it took the
         * channel's read with it: 180 ms of C2).
         */
        private int lines(byte[] buf, int end) {
            int start = 0;
            for (int i = 0; i < end && !full; i++) {
                byte b = buf[i];
                if (b == '\n' || b == '\r') {
                    if (!skipping) {
                        line(buf, start, i);
                    }
                    skipping = false;
                    start = i + 1;
                }
            }
            return start;
        }

        /**
         * Off the heap with the names of the last block: the symbols end with the last name kept
         * (a failed copy drops that block's symbols, not the table).
         */
        void finish() {
            try {
                flush();
            } catch (RuntimeException | OutOfMemoryError e) {
                int kept = 0;
                while (kept < count && names[kept] >>> BLOCK_BITS < blocks.size()) {
                    kept++;
                }
                Log.warn("kernel symbols: %d of them dropped (%s)", count - kept, e.getMessage());
                count = kept;
            }
        }

        /** One line, [from, to): a text symbol with an address is kept, anything else skipped. */
        private void line(byte[] b, int from, int to) {
            // <hex> ' ' <one type character> ' ' <name>: what the String-per-line reader took
            int i = from < to && b[from] == '+' ? from + 1 : from;
            int digits = i;
            long address = 0;
            for (; i < to && b[i] != ' '; i++) {
                int d = HEX[b[i] & 0xff];
                if (d < 0 || (address >>> 60) != 0) {
                    return;
                }
                address = address << 4 | d;
            }
            if (i == digits || address == 0 || i + 2 >= to || b[i + 1] == ' ' || b[i + 2] != ' ') {
                return;
            }
            byte type = b[i + 1];
            if (type != 't' && type != 'T' && type != 'w' && type != 'W') {
                return;
            }
            int name = i + 3;
            int end = name;
            while (end < to && b[end] != '\t') {
                end++;
            }
            add(address, b, name, end);
        }

        private void add(long address, byte[] b, int from, int to) {
            int length = to - from;
            if (used + length + 1 > BLOCK) {
                if (blocks.size() + 1 >= MAX_BLOCKS) {
                    full = true;
                    return;
                }
                flush();
            }
            if (count == addresses.length) {
                if (count == MAX_SYMBOLS) {
                    full = true;
                    return;
                }
                int grown = Math.min(MAX_SYMBOLS, count + count / 2);
                addresses = Arrays.copyOf(addresses, grown);
                names = Arrays.copyOf(names, grown);
            }
            System.arraycopy(b, from, block, used, length);
            block[used + length] = 0;
            addresses[count] = address;
            names[count] = blocks.size() << BLOCK_BITS | used;
            count++;
            used += length + 1;
        }

        /** The names of the block so far, off the heap, exactly as long as they are. */
        private void flush() {
            if (used > 0) {
                MemorySegment names = Arena.ofAuto().allocate(used);
                MemorySegment.copy(block, 0, names, ValueLayout.JAVA_BYTE, 0, used);
                blocks.add(names);
                used = 0;
            }
        }

        MemorySegment[] blocks() {
            return blocks.toArray(MemorySegment[]::new);
        }
    }

    /** The function at a kernel address, or null. */
    public String symbol(long address) {
        int at = position(address);
        return at < 0 ? null : name(at);
    }

    /**
     * Which symbol holds a kernel address (the last one at or below it, if not farther than
     * {@link #MAX_FUNCTION_SIZE}), as a number for {@link #name}, or -1.
     */
    public int position(long address) {
        int at = index.floor(address);
        return at < 0 || Long.compareUnsigned(address - index.address(at), MAX_FUNCTION_SIZE) > 0 ? -1 : at;
    }

    /** The name of the symbol at a position {@link #position} gave. */
    public String name(int position) {
        int ref = index.payload(position);
        MemorySegment b = blocks[ref >>> BLOCK_BITS];
        long from = ref & (BLOCK - 1);
        long end = from;
        while (end < b.byteSize() && b.get(ValueLayout.JAVA_BYTE, end) != 0) {
            end++;
        }
        return new String(b.asSlice(from, end - from).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    public int size() {
        return index.size();
    }

    @Override
    public void resolve(long[] pcs, int count, long[] starts, String[] names) {
        for (int i = 0; i < count; i++) {
            int at = position(pcs[i]);
            starts[i] = at < 0 ? 0 : index.address(at);
            names[i] = at < 0 ? null : name(at);
        }
    }

    /** The names are off the heap until this object is collected: nothing to free by hand. */
    @Override
    public void close() {
    }

    /** Heap bytes held (the address index) and off-heap bytes (the names). */
    long heapBytes() {
        return index.bytes();
    }

    long offHeapBytes() {
        return offHeapBytes;
    }
}
