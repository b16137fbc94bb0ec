package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.os.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.BiConsumer;

/** One map of a {@link BpfObject}: sizes before load, element access after. */
public final class BpfMap {
    private static volatile int possibleCpus;

    private final BpfObject object;
    private final MemorySegment map;

    BpfMap(BpfObject object, MemorySegment map) {
        this.object = object;
        this.map = map;
    }

    MemorySegment handle() {
        return map;
    }

    public String name() {
        return LibBpf.string(LibBpf.callPtr(LibBpf.MAP_NAME, map));
    }

    public int fd() {
        return LibBpf.callInt(LibBpf.MAP_FD, map);
    }

    public int type() {
        return LibBpf.callInt(LibBpf.MAP_TYPE, map);
    }

    public int keySize() {
        return LibBpf.callInt(LibBpf.MAP_KEY_SIZE, map);
    }

    public int valueSize() {
        return LibBpf.callInt(LibBpf.MAP_VALUE_SIZE, map);
    }

    public int maxEntries() {
        return LibBpf.callInt(LibBpf.MAP_MAX_ENTRIES, map);
    }

    /** Before load: e.g. the byte size of a ring buffer (a power of two, a multiple of the page size). */
    public void setMaxEntries(int entries) throws BpfException {
        LibBpf.checkedInt("bpf_map__set_max_entries(" + name() + ", " + entries + ")", LibBpf.MAP_SET_MAX_ENTRIES, map, entries);
    }

    /** Looks a key up into {@code value}; false when the key is absent. Per-CPU maps fill one slot per possible CPU. */
    public boolean lookup(MemorySegment key, MemorySegment value) throws BpfException {
        return LibBpf.lookup(() -> object.name() + "/" + name(), fd(), key, value);
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
                int rc = LibBpf.callInt(LibBpf.MAP_GET_NEXT_KEY, fd, previous, next);
                if (rc != 0) {
                    int errno = rc < -1 ? -rc : LibBpf.errno();
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
        int rc = LibBpf.callInt(LibBpf.MAP_UPDATE_ELEM, fd(), key, value, 0L);
        if (rc != 0) {
            throw LibBpf.failure("bpf_map_update_elem(" + object.name() + "/" + name() + ")", rc < -1 ? -rc : LibBpf.errno());
        }
    }

    /** Deletes a key of a hash map; false when it was not there. */
    public boolean delete(MemorySegment key) throws BpfException {
        int rc = LibBpf.callInt(LibBpf.MAP_DELETE_ELEM, fd(), key);
        if (rc != 0) {
            int errno = rc < -1 ? -rc : LibBpf.errno();
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
        LibBpf.checkedInt("bpf_map__reuse_fd(" + object.name() + "/" + name() + ")", LibBpf.MAP_REUSE_FD, map, shared.fd());
    }

    /** After load: this map under an fd of its own, which outlives the object (closed by its owner). */
    public SharedMap share() throws BpfException {
        int fd = LibBpf.callInt(LibBpf.DUP, fd());
        if (fd < 0) {
            throw LibBpf.failure("dup(" + object.name() + "/" + name() + ")", LibBpf.errno());
        }
        return new SharedMap(name(), fd, keySize(), valueSize());
    }

    /** The CPUs a per-CPU map has a slot for. */
    public static int possibleCpus() {
        int n = possibleCpus;
        if (n == 0) {
            n = LibBpf.callInt(LibBpf.NUM_POSSIBLE_CPUS);
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
