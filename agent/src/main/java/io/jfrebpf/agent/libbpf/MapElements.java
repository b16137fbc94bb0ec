package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.os.Errno;
import io.jfrebpf.agent.os.Native;
import io.jfrebpf.agent.os.NativeFunction;
import java.lang.foreign.MemorySegment;

/**
 * The element calls on a map's fd that {@link BpfMap} and {@link SharedMap} share. Each returns 0
 * on success, else the errno; no allocation (the symbolizer looks stacks up per event). Key and
 * value are native segments the caller keeps alive during the call.
 */
final class MapElements {
    private static final NativeFunction LOOKUP = LibBpf.function("bpf_map_lookup_elem");
    private static final NativeFunction GET_NEXT_KEY = LibBpf.function("bpf_map_get_next_key");
    private static final NativeFunction UPDATE = LibBpf.function("bpf_map_update_elem");
    private static final NativeFunction DELETE = LibBpf.function("bpf_map_delete_elem");

    private MapElements() {
    }

    static int lookup(int fd, MemorySegment key, MemorySegment value) {
        return errno((int) LOOKUP.call(fd, Native.address(key), Native.address(value)));
    }

    /** The key after {@code key} ({@link MemorySegment#NULL}: the first) into {@code next}. */
    static int nextKey(int fd, MemorySegment key, MemorySegment next) {
        return errno((int) GET_NEXT_KEY.call(fd, Native.address(key), Native.address(next)));
    }

    static int update(int fd, MemorySegment key, MemorySegment value) {
        return errno((int) UPDATE.call(fd, Native.address(key), Native.address(value), 0L)); // BPF_ANY
    }

    static int delete(int fd, MemorySegment key) {
        return errno((int) DELETE.call(fd, Native.address(key)));
    }

    private static int errno(int rc) {
        return rc == 0 ? 0 : LibBpf.errnoOf(rc);
    }

    /** A lookup's result: true when found, false when the key is absent, else the failure. */
    static boolean found(int errno, BpfMap map) throws BpfException {
        return found(errno, map.object().name() + "/" + map.name());
    }

    static boolean found(int errno, String mapName) throws BpfException {
        if (errno == 0) {
            return true;
        }
        if (errno == Errno.ENOENT) {
            return false;
        }
        throw LibBpf.failure("bpf_map_lookup_elem(" + mapName + ")", errno);
    }
}
