package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.os.SignalMask;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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

    private final String name;
    private final Arena arena = Arena.ofShared();
    private MemorySegment object;
    private Rodata rodata;
    private boolean loaded;

    private BpfObject(String name, MemorySegment object) {
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
        try {
            MemorySegment bytes = arena.allocate(elf.length, 8);
            bytes.copyFrom(MemorySegment.ofArray(elf));
            MemorySegment opts = arena.allocate(OPEN_OPTS_SIZE, 8);
            opts.set(LibBpf.LONG, 0, OPEN_OPTS_SIZE);
            opts.set(LibBpf.PTR, 8, arena.allocateFrom(objectName));
            if (btfCustomPath != null) {
                opts.set(LibBpf.PTR, OPEN_OPTS_BTF_CUSTOM_PATH, arena.allocateFrom(btfCustomPath.toString()));
            }
            LibBpf.clearWarnings();
            MemorySegment obj = LibBpf.checkedPtr("bpf_object__open_mem(" + objectName + ")", LibBpf.OBJECT_OPEN_MEM,
                    bytes, (long) elf.length, opts);
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
        return open(name, resourceBytes(name));
    }

    /** The ELF bytes of {@code /io/jfrebpf/bpf/<name>.bpf.o} in the agent jar. */
    public static byte[] resourceBytes(String name) throws IOException {
        String resource = "/io/jfrebpf/bpf/" + name + ".bpf.o";
        try (InputStream in = BpfObject.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("BPF object " + resource + " is not in the agent jar");
            }
            return in.readAllBytes();
        }
    }

    /** libbpf keeps pointers into the ELF bytes and name until close. */
    private Arena ownArena;

    private void keep(Arena a) {
        ownArena = a;
    }

    public String name() {
        return name;
    }

    MemorySegment handle() {
        if (object == null) {
            throw new IllegalStateException("BPF object " + name + " is closed");
        }
        return object;
    }

    Arena arena() {
        return arena;
    }

    public BpfProgram program(String programName) throws BpfException {
        MemorySegment p = LibBpf.callPtr(LibBpf.OBJECT_FIND_PROGRAM, handle(), arena.allocateFrom(programName));
        if (p.address() == 0) {
            throw new BpfException("BPF object " + name + " has no program '" + programName + "'; it has " + programNames(), 2);
        }
        return new BpfProgram(this, p);
    }

    public List<BpfProgram> programs() {
        List<BpfProgram> list = new ArrayList<>();
        MemorySegment p = MemorySegment.NULL;
        while (true) {
            p = LibBpf.callPtr(LibBpf.OBJECT_NEXT_PROGRAM, handle(), p);
            if (p.address() == 0) {
                return list;
            }
            list.add(new BpfProgram(this, p));
        }
    }

    private List<String> programNames() {
        return programs().stream().map(BpfProgram::name).toList();
    }

    public BpfMap map(String mapName) throws BpfException {
        MemorySegment m = LibBpf.callPtr(LibBpf.OBJECT_FIND_MAP, handle(), arena.allocateFrom(mapName));
        if (m.address() == 0) {
            throw new BpfException("BPF object " + name + " has no map '" + mapName + "'; it has "
                    + maps().stream().map(BpfMap::name).toList(), 2);
        }
        return new BpfMap(this, m);
    }

    public List<BpfMap> maps() {
        List<BpfMap> list = new ArrayList<>();
        MemorySegment m = MemorySegment.NULL;
        while (true) {
            m = LibBpf.callPtr(LibBpf.OBJECT_NEXT_MAP, handle(), m);
            if (m.address() == 0) {
                return list;
            }
            list.add(new BpfMap(this, m));
        }
    }

    /** The {@code const volatile} globals, to set before {@link #load()}. */
    public Rodata rodata() throws BpfException {
        if (rodata == null) {
            BpfMap map = maps().stream().filter(m -> m.name().endsWith(".rodata")).findFirst()
                    .orElseThrow(() -> new BpfException("BPF object " + name + " has no .rodata section", 2));
            rodata = new Rodata(this, map);
        }
        return rodata;
    }

    /**
     * Loads every program through the verifier, with this thread's signals held
     * ({@link SignalMask}): a signal arriving mid-verification fails the load with EAGAIN.
     */
    public void load() throws BpfException {
        LibBpf.clearWarnings();
        try (SignalMask held = SignalMask.blockAll()) {
            LibBpf.checkedInt("bpf_object__load(" + name + ")", LibBpf.OBJECT_LOAD, handle());
        }
        loaded = true;
    }

    public boolean isLoaded() {
        return loaded;
    }

    @Override
    public synchronized void close() {
        if (object != null) {
            LibBpf.call(LibBpf.OBJECT_CLOSE, object);
            object = null;
            arena.close();
            if (ownArena != null) {
                ownArena.close();
            }
        }
    }
}
