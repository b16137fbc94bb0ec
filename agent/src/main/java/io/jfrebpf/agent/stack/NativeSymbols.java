package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.ElfFiles;
import io.jfrebpf.agent.os.ProcMaps;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Native frames: the mapped ELF object that holds a pc ({@code /proc/self/maps}, re-read when a
 * pc falls outside every known mapping, at most once a second) and the function symbol at it
 * ({@code .symtab}, else {@code .dynsym}). An object's symbols are read when a pc in it is first
 * symbolized (on the poller thread: libjvm's 58,000 functions), kept for a bounded number of
 * objects (what each costs: {@link ElfFile}), and released when it is dropped. A file's symbols
 * come from {@link ElfFiles}, shared with the rest of the agent: libjvm's tables, mapped and
 * looked up by name at start-up, are not read again, only indexed by address.
 */
public final class NativeSymbols {
    /** Where a pc is: the object's file name, the symbol (null when none covers it) and the offset in the object. */
    public record Location(String module, String symbol, long offset) {
    }

    private static final int MAX_OBJECTS = 64;
    /** The kernel's vDSO (clock_gettime, gettimeofday: System.nanoTime and currentTimeMillis land there). */
    static final String VDSO = "[vdso]";
    /** Its module name in frames: JMC does not take brackets in a frame's class name. */
    static final String VDSO_MODULE = "vdso";
    private static final long MAX_VDSO_BYTES = 64 * 1024;
    /**
     * The kernel's uprobe page: a uretprobe's return trampoline, and the out-of-line copies of
     * probed instructions. A thread our own file probes caught on its way back from libc's open
     * is there; its frame is named as one, under its own module.
     */
    static final String UPROBES = "[uprobes]";
    static final String UPROBES_MODULE = "uprobes";
    static final String UPROBES_SYMBOL = "uprobe_trampoline";
    private static final long REREAD_NS = 1_000_000_000L;
    /**
     * ... for a pc above every executable mapping: the kernel maps its uprobe page there at the
     * first trap of a probe, just after ours attach, and a frame named unknown then would be
     * cached as such.
     */
    private static final long REREAD_ABOVE_NS = 10_000_000L;

    private volatile List<ProcMaps.Mapping> executable = List.of();
    private long loadNanos;
    private long lastRead = Long.MIN_VALUE / 2;
    /** Symbol tables by path (empty: the object has none we can read); the least recently used is closed past MAX_OBJECTS. */
    private final Map<String, Optional<ElfFile>> objects = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Optional<ElfFile>> eldest) {
            if (size() > MAX_OBJECTS) {
                eldest.getValue().ifPresent(ElfFile::close);
                return true;
            }
            return false;
        }
    };

    /** The location of pc, or empty when no file mapping holds it (anonymous memory: JIT code, stubs). */
    public synchronized Optional<Location> locate(long pc) {
        ProcMaps.Mapping m = mapping(pc);
        long since = System.nanoTime() - lastRead;
        if (m == null && (since > REREAD_NS || (since > REREAD_ABOVE_NS && aboveAll(pc)))) {
            long start = System.nanoTime();
            reread();
            loadNanos += System.nanoTime() - start;
            m = mapping(pc);
        }
        if (m == null) {
            return Optional.empty();
        }
        long fileOffset = pc - m.start() + m.offset();
        if (m.path().equals(UPROBES)) {
            return Optional.of(new Location(UPROBES_MODULE, UPROBES_SYMBOL, fileOffset));
        }
        String module = m.path().equals(VDSO) ? VDSO_MODULE : Path.of(m.path()).getFileName().toString();
        Optional<ElfFile> elf = objects.get(m.path());
        if (elf == null) {
            long start = System.nanoTime();
            elf = open(m.path());
            objects.put(m.path(), elf);
            loadNanos += System.nanoTime() - start;
        }
        if (elf.isEmpty()) {
            return Optional.of(new Location(module, null, fileOffset));
        }
        long vaddr = elf.get().vaddr(fileOffset);
        return Optional.of(new Location(module,
                elf.get().symbolAt(vaddr).map(s -> Demangler.demangle(s.name())).orElse(null), fileOffset));
    }

    /**
     * The vDSO is an ELF image the kernel maps into every process, with no file behind it: its
     * bytes are copied from our own memory into a temporary file that the ELF reader maps (the
     * mapping outlives the file, deleted at once).
     */
    private Optional<ElfFile> openVdso() {
        ProcMaps.Mapping vdso = null;
        for (ProcMaps.Mapping m : executable) {
            if (m.path().equals(VDSO)) {
                vdso = m;
            }
        }
        if (vdso == null || vdso.offset() != 0 || vdso.end() - vdso.start() > MAX_VDSO_BYTES) {
            return Optional.empty();
        }
        Path copy = null;
        try {
            byte[] image = MemorySegment.ofAddress(vdso.start()).reinterpret(vdso.end() - vdso.start())
                    .toArray(ValueLayout.JAVA_BYTE);
            copy = Files.createTempFile("jfr-ebpf-vdso", ".so");
            Files.write(copy, image);
            return Optional.of(ElfFile.open(copy));
        } catch (Exception e) {
            Log.debug("no symbols for the vDSO: %s", e.getMessage());
            return Optional.empty();
        } finally {
            if (copy != null) {
                try {
                    Files.deleteIfExists(copy);
                } catch (java.io.IOException ignored) {
                    // a temp file of a few KB
                }
            }
        }
    }

    /** Time spent reading symbol tables and mappings. */
    public synchronized long loadNanos() {
        return loadNanos;
    }

    private boolean aboveAll(long pc) {
        for (ProcMaps.Mapping m : executable) {
            if (Long.compareUnsigned(pc, m.end()) < 0) {
                return false;
            }
        }
        return true;
    }

    private ProcMaps.Mapping mapping(long pc) {
        for (ProcMaps.Mapping m : executable) {
            if (Long.compareUnsigned(pc, m.start()) >= 0 && Long.compareUnsigned(pc, m.end()) < 0) {
                return m;
            }
        }
        return null;
    }

    private void reread() {
        lastRead = System.nanoTime();
        try {
            List<ProcMaps.Mapping> list = new ArrayList<>();
            for (ProcMaps.Mapping m : ProcMaps.self().mappings()) {
                if (m.perms().contains("x") && (m.path().startsWith("/") || m.path().equals(VDSO) || m.path().equals(UPROBES))) {
                    list.add(m);
                }
            }
            executable = list;
        } catch (RuntimeException e) {
            Log.debug("cannot read /proc/self/maps: %s", e);
        }
    }

    /** An object's symbols, their address index built now (it is opened for a pc in it). */
    private Optional<ElfFile> open(String path) {
        Optional<ElfFile> elf = path.equals(VDSO) ? openVdso() : openFile(path);
        try {
            elf.ifPresent(ElfFile::symbolCount);
            return elf;
        } catch (RuntimeException e) {
            Log.debug("no symbols for %s: %s", path, e);
            elf.get().close();
            return Optional.empty();
        }
    }

    private static Optional<ElfFile> openFile(String path) {
        try {
            return Optional.of(ElfFiles.open(Path.of(path.endsWith(" (deleted)") ? path.substring(0, path.length() - 10) : path)));
        } catch (Exception e) {
            Log.debug("no symbols for %s: %s", path, e.getMessage());
            return Optional.empty();
        }
    }
}
