package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.os.NativeFunction;
import io.jfrebpf.agent.os.SignalMask;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;

/**
 * One BPF ELF object: open → set {@link #rodata() tunables} and program autoload → {@link #load()}
 * → attach its programs. Closing it unloads programs and maps (links must be closed first).
 * Not thread-safe: one thread sets it up.
 */
public final class BpfObject implements AutoCloseable {
    /** libbpf 1.1 sizeof(struct bpf_object_open_opts); object_name at offset 8, btf_custom_path at 48. */
    static final long OPEN_OPTS_SIZE = 80;
    static final long OPEN_OPTS_BTF_CUSTOM_PATH = 48;

    private static final NativeFunction OPEN_MEM = LibBpf.function("bpf_object__open_mem");
    private static final NativeFunction LOAD = LibBpf.function("bpf_object__load");
    private static final NativeFunction CLOSE = LibBpf.function("bpf_object__close");
    private static final NativeFunction FIND_PROGRAM = LibBpf.function("bpf_object__find_program_by_name");
    private static final NativeFunction NEXT_PROGRAM = LibBpf.function("bpf_object__next_program");
    private static final NativeFunction FIND_MAP = LibBpf.function("bpf_object__find_map_by_name");
    private static final NativeFunction NEXT_MAP = LibBpf.function("bpf_object__next_map");
    static final NativeFunction BTF = LibBpf.function("bpf_object__btf");

    private static final int COPY_CHUNK = 64 << 10;
    /** Far above any object of ours; a jar entry claiming more is not read this way. */
    private static final long MAX_OBJECT_BYTES = 64L << 20;

    private final String name;
    private final Arena arena = Arena.ofShared();
    /** struct bpf_object *, 0 once closed. */
    private long object;
    private Rodata rodata;
    private boolean loaded;

    private BpfObject(String name, long object) {
        this.name = name;
        this.object = object;
    }

    /** Opens an object from its ELF bytes. */
    public static BpfObject open(String objectName, byte[] elf) throws BpfException {
        return open(objectName, elf, null);
    }

    /**
     * Opens an object whose CO-RE relocations are made against another kernel's BTF (a raw BTF
     * or an ELF file with a .BTF section), not the running kernel's: what the object would need
     * on that kernel, checked here (attach targets still come from the running kernel).
     */
    public static BpfObject open(String objectName, byte[] elf, java.nio.file.Path btfCustomPath) throws BpfException {
        Arena arena = Arena.ofShared();
        MemorySegment bytes;
        try {
            bytes = arena.allocate(elf.length, 8);
            bytes.copyFrom(MemorySegment.ofArray(elf));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        return open(objectName, bytes, arena, btfCustomPath);
    }

    /** Opens the ELF bytes in {@code arena}'s memory; the object owns the arena from here, closed on failure. */
    private static BpfObject open(String objectName, MemorySegment elf, Arena arena, java.nio.file.Path btfCustomPath)
            throws BpfException {
        try {
            MemorySegment opts = arena.allocate(OPEN_OPTS_SIZE, 8);
            opts.set(ValueLayout.JAVA_LONG, 0, OPEN_OPTS_SIZE);
            opts.set(ValueLayout.ADDRESS, 8, arena.allocateFrom(objectName));
            if (btfCustomPath != null) {
                opts.set(ValueLayout.ADDRESS, OPEN_OPTS_BTF_CUSTOM_PATH, arena.allocateFrom(btfCustomPath.toString()));
            }
            LibBpf.clearWarnings();
            long obj = LibBpf.checkedPtr("bpf_object__open_mem(" + objectName + ")",
                    OPEN_MEM.call(elf.address(), elf.byteSize(), opts.address()));
            BpfObject o = new BpfObject(objectName, obj);
            o.keep(arena);
            return o;
        } catch (BpfException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Opens {@code /io/jfrebpf/bpf/<name>.bpf.o} from the agent jar. */
    public static BpfObject openResource(String name) throws BpfException, IOException {
        Arena arena = Arena.ofShared();
        MemorySegment elf;
        try {
            elf = resource(name, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
        return open(name, elf, arena, null);
    }

    /** The ELF bytes of {@code /io/jfrebpf/bpf/<name>.bpf.o} in the agent jar. */
    public static byte[] resourceBytes(String name) throws IOException {
        try (InputStream in = resourceStream(name)) {
            return in.readAllBytes();
        }
    }

    private static InputStream resourceStream(String name) throws IOException {
        String resource = "/io/jfrebpf/bpf/" + name + ".bpf.o";
        InputStream in = BpfObject.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IOException("BPF object " + resource + " is not in the agent jar");
        }
        return in;
    }

    /**
     * The ELF bytes of the resource copied into {@code arena} through one small buffer, not
     * gathered on the heap first (the objects are up to ~1 MB each): its size is the jar entry's.
     */
    private static MemorySegment resource(String name, Arena arena) throws IOException {
        URL url = BpfObject.class.getResource("/io/jfrebpf/bpf/" + name + ".bpf.o");
        long size = url == null ? -1 : url.openConnection().getContentLengthLong();
        if (size <= 0 || size > MAX_OBJECT_BYTES) {
            byte[] elf = resourceBytes(name);
            return arena.allocate(elf.length, 8).copyFrom(MemorySegment.ofArray(elf));
        }
        MemorySegment elf = arena.allocate(size, 8);
        byte[] chunk = new byte[(int) Math.min(size, COPY_CHUNK)];
        long at = 0;
        try (InputStream in = resourceStream(name)) {
            while (at < size) {
                int n = in.read(chunk, 0, (int) Math.min(chunk.length, size - at));
                if (n < 0) {
                    throw new IOException("BPF object " + name + " ends at " + at + " of its " + size + " bytes");
                }
                MemorySegment.copy(chunk, 0, elf, ValueLayout.JAVA_BYTE, at, n);
                at += n;
            }
        }
        return elf;
    }

    /** libbpf keeps pointers into the ELF bytes and name until close. */
    private Arena ownArena;

    private void keep(Arena a) {
        ownArena = a;
    }

    public String name() {
        return name;
    }

    long handle() {
        if (object == 0) {
            throw new IllegalStateException("BPF object " + name + " is closed");
        }
        return object;
    }

    Arena arena() {
        return arena;
    }

    public BpfProgram program(String programName) throws BpfException {
        long p = FIND_PROGRAM.call(handle(), arena.allocateFrom(programName).address());
        if (p == 0) {
            throw new BpfException("BPF object " + name + " has no program '" + programName + "'; it has " + programNames(), 2);
        }
        return new BpfProgram(this, p);
    }

    public List<BpfProgram> programs() {
        List<BpfProgram> list = new ArrayList<>();
        long p = 0;
        while (true) {
            p = NEXT_PROGRAM.call(handle(), p);
            if (p == 0) {
                return list;
            }
            list.add(new BpfProgram(this, p));
        }
    }

    private List<String> programNames() {
        List<String> names = new ArrayList<>();
        for (BpfProgram p : programs()) {
            names.add(p.name());
        }
        return names;
    }

    private List<String> mapNames() {
        List<String> names = new ArrayList<>();
        for (BpfMap m : maps()) {
            names.add(m.name());
        }
        return names;
    }

    public BpfMap map(String mapName) throws BpfException {
        long m = FIND_MAP.call(handle(), arena.allocateFrom(mapName).address());
        if (m == 0) {
            throw new BpfException("BPF object " + name + " has no map '" + mapName + "'; it has " + mapNames(), 2);
        }
        return new BpfMap(this, m);
    }

    public List<BpfMap> maps() {
        List<BpfMap> list = new ArrayList<>();
        long m = 0;
        while (true) {
            m = NEXT_MAP.call(handle(), m);
            if (m == 0) {
                return list;
            }
            list.add(new BpfMap(this, m));
        }
    }

    /** The {@code const volatile} globals, to set before {@link #load()}. */
    public Rodata rodata() throws BpfException {
        if (rodata == null) {
            rodata = new Rodata(this, mapEndingWith(".rodata"));
        }
        return rodata;
    }

    /** The map of a section ({@code .rodata}, {@code .bss}), which libbpf names {@code <object>.<section>}. */
    public BpfMap mapEndingWith(String section) throws BpfException {
        for (BpfMap m : maps()) {
            if (m.name().endsWith(section)) {
                return m;
            }
        }
        throw new BpfException("BPF object " + name + " has no " + section + " section", 2);
    }

    /**
     * Loads every program through the verifier, with this thread's signals held
     * ({@link SignalMask}): a signal arriving mid-verification fails the load with EAGAIN.
     */
    public void load() throws BpfException {
        LibBpf.clearWarnings();
        try (SignalMask held = SignalMask.blockAll()) {
            LibBpf.checkedInt("bpf_object__load(" + name + ")", LOAD.call(handle()));
        }
        loaded = true;
    }

    public boolean isLoaded() {
        return loaded;
    }

    @Override
    public synchronized void close() {
        if (object != 0) {
            CLOSE.call(object);
            object = 0;
            arena.close();
            if (ownArena != null) {
                ownArena.close();
            }
        }
    }
}
