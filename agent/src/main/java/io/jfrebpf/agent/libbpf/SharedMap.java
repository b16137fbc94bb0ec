package io.jfrebpf.agent.libbpf;

import java.lang.foreign.MemorySegment;

/**
 * A map under an fd of its own, filled by the programs of several objects (each reuses it before
 * load) and read by the agent after they are gone. Lookups are safe from any thread; close once.
 */
public final class SharedMap implements AutoCloseable {
    private final String name;
    private final int keySize;
    private final int valueSize;
    private volatile int fd;

    SharedMap(String name, int fd, int keySize, int valueSize) {
        this.name = name;
        this.fd = fd;
        this.keySize = keySize;
        this.valueSize = valueSize;
    }

    public String name() {
        return name;
    }

    int fd() {
        return fd;
    }

    public int keySize() {
        return keySize;
    }

    public int valueSize() {
        return valueSize;
    }

    /** Looks a key up into {@code value}; false when absent (or closed). */
    public boolean lookup(MemorySegment key, MemorySegment value) throws BpfException {
        int f = fd;
        if (f < 0) {
            return false;
        }
        return MapElements.found(MapElements.lookup(f, key, value), name);
    }

    /** Writes a key's value (an array map's element); nothing once closed. */
    public void update(MemorySegment key, MemorySegment value) throws BpfException {
        int f = fd;
        if (f < 0) {
            return;
        }
        int errno = MapElements.update(f, key, value);
        if (errno != 0) {
            throw LibBpf.failure("bpf_map_update_elem(" + name + ")", errno);
        }
    }

    @Override
    public synchronized void close() {
        int f = fd;
        fd = -1;
        if (f >= 0) {
            LibBpf.closeFd(f);
        }
    }
}
