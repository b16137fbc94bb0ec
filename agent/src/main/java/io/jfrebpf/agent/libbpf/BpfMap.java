package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.os.Errno;
import io.jfrebpf.agent.os.Native;
import io.jfrebpf.agent.os.NativeFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.BiConsumer;

/** One map of a {@link BpfObject}: sizes before load, element access after. */
public final class BpfMap {
    private static final NativeFunction NAME = LibBpf.function("bpf_map__name");
    private static final NativeFunction FD = LibBpf.function("bpf_map__fd");
    private static final NativeFunction TYPE = LibBpf.function("bpf_map__type");
    private static final NativeFunction KEY_SIZE = LibBpf.function("bpf_map__key_size");
    private static final NativeFunction VALUE_SIZE = LibBpf.function("bpf_map__value_size");
    private static final NativeFunction MAX_ENTRIES = LibBpf.function("bpf_map__max_entries");
    private static final NativeFunction SET_MAX_ENTRIES = LibBpf.function("bpf_map__set_max_entries");
    private static final NativeFunction INITIAL_VALUE = LibBpf.function("bpf_map__initial_value");
    private static final NativeFunction REUSE_FD = LibBpf.function("bpf_map__reuse_fd");
    private static final NativeFunction NUM_POSSIBLE_CPUS = LibBpf.function("libbpf_num_possible_cpus");
    private static final NativeFunction DUP = NativeFunction.libc("dup");
    private static volatile int possibleCpus;

    private final BpfObject object;
    /** struct bpf_map *, owned by the object. */
    private final long map;
    /** The fd once the object is loaded (it no longer changes then); -1 before. */
    private int loadedFd = -1;

    BpfMap(BpfObject object, long map) {
        this.object = object;
        this.map = map;
    }

    BpfObject object() {
        return object;
    }

    public String name() {
        return LibBpf.string(NAME.call(map));
    }

    /** The map's fd: -1 before load unless it reuses a {@link SharedMap}'s. */
    public int fd() {
        object.handle(); // the map is gone with a closed object
        int fd = loadedFd;
        if (fd >= 0) {
            return fd;
        }
        fd = (int) FD.call(map);
        if (fd >= 0 && object.isLoaded()) {
            loadedFd = fd;
        }
        return fd;
    }

    public int type() {
        return (int) TYPE.call(map);
    }

    public int keySize() {
        return (int) KEY_SIZE.call(map);
    }

    public int valueSize() {
        return (int) VALUE_SIZE.call(map);
    }

    public int maxEntries() {
        return (int) MAX_ENTRIES.call(map);
    }

    /** Before load: e.g. the byte size of a ring buffer (a power of two, a multiple of the page size). */
    public void setMaxEntries(int entries) throws BpfException {
        LibBpf.checkedInt("bpf_map__set_max_entries(" + name() + ", " + entries + ")", SET_MAX_ENTRIES.call(map, entries));
    }

    /**
     * Before load, the map's initial bytes (of a {@code .rodata}, {@code .data} or {@code .bss}
     * section), which libbpf keeps until the object closes.
     */
    MemorySegment initialValue(Arena arena) throws BpfException {
        MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
        long value = LibBpf.checkedPtr("bpf_map__initial_value(" + name() + ")", INITIAL_VALUE.call(map, size.address()));
        return Native.segment(value, size.get(ValueLayout.JAVA_LONG, 0));
    }

    /** Looks a key up into {@code value}; false when the key is absent. Per-CPU maps fill one slot per possible CPU. */
    public boolean lookup(MemorySegment key, MemorySegment value) throws BpfException {
        return MapElements.found(MapElements.lookup(fd(), key, value), this);
    }

    /**
     * Calls {@code visit} with each key and value of a hash map, at most {@code limit} times. The
     * map may change meanwhile: entries added or removed during the walk may be missed, and when
     * the key the walk stands on is deleted the kernel starts over at the first key, so a key can
     * be visited more than once: callers that count must keep the keys they saw. The segments
     * are reused between calls. Returns how many were visited.
     */
    public long forEach(long limit, BiConsumer<MemorySegment, MemorySegment> visit) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocate(keySize(), 8);
            MemorySegment next = arena.allocate(keySize(), 8);
            MemorySegment value = arena.allocate(valueSize(), 8);
            MemorySegment previous = MemorySegment.NULL;
            long visited = 0;
            int fd = fd();
            while (visited < limit) {
                int errno = MapElements.nextKey(fd, previous, next);
                if (errno != 0) {
                    if (errno == Errno.ENOENT) {
                        return visited; // the end
                    }
                    throw LibBpf.failure("bpf_map_get_next_key(" + object.name() + "/" + name() + ")", errno);
                }
                MemorySegment.copy(next, 0, key, 0, keySize());
                previous = key;
                if (lookup(key, value)) { // deleted since: skipped
                    visit.accept(key, value);
                    visited++;
                }
            }
            return visited;
        }
    }

    public void update(MemorySegment key, MemorySegment value) throws BpfException {
        int errno = MapElements.update(fd(), key, value);
        if (errno != 0) {
            throw LibBpf.failure("bpf_map_update_elem(" + object.name() + "/" + name() + ")", errno);
        }
    }

    /** Deletes a key of a hash map; false when it was not there. */
    public boolean delete(MemorySegment key) throws BpfException {
        int errno = MapElements.delete(fd(), key);
        if (errno != 0) {
            if (errno == Errno.ENOENT) {
                return false;
            }
            throw LibBpf.failure("bpf_map_delete_elem(" + object.name() + "/" + name() + ")", errno);
        }
        return true;
    }

    /**
     * Before load: use an existing map (a {@link SharedMap} of another object) instead of creating
     * this one, so several objects fill the same map. Types and sizes must match.
     */
    public void reuse(SharedMap shared) throws BpfException {
        LibBpf.checkedInt("bpf_map__reuse_fd(" + object.name() + "/" + name() + ")", REUSE_FD.call(map, shared.fd()));
    }

    /** After load: this map under an fd of its own, which outlives the object (closed by its owner). */
    public SharedMap share() throws BpfException {
        int fd = (int) DUP.call(fd());
        if (fd < 0) {
            throw LibBpf.failure("dup(" + object.name() + "/" + name() + ")", LibBpf.errno());
        }
        return new SharedMap(name(), fd, keySize(), valueSize());
    }

    /** The CPUs a per-CPU map has a slot for. */
    public static int possibleCpus() {
        int n = possibleCpus;
        if (n == 0) {
            n = (int) NUM_POSSIBLE_CPUS.call();
            if (n <= 0) {
                n = Runtime.getRuntime().availableProcessors();
            }
            possibleCpus = n;
        }
        return n;
    }

    /** Bytes a per-CPU lookup of this map fills: each CPU's value rounded up to 8 bytes. */
    public long perCpuValueBytes() {
        return perCpuStride(valueSize()) * possibleCpus();
    }

    public static long perCpuStride(long valueSize) {
        return (valueSize + 7) & ~7L;
    }

    /** The sum over CPUs of a per-CPU u64 at {@code key} (0 when absent). */
    public long sumPerCpuLong(int key) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, key);
            MemorySegment values = arena.allocate(perCpuValueBytes(), 8);
            if (!lookup(k, values)) {
                return 0;
            }
            long stride = perCpuStride(valueSize());
            long sum = 0;
            for (int cpu = 0; cpu < possibleCpus(); cpu++) {
                sum += values.get(ValueLayout.JAVA_LONG, cpu * stride);
            }
            return sum;
        }
    }
}
