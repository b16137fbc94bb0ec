package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The function symbols of an ELF64 little-endian shared object ({@code .symtab} and
 * {@code .dynsym}) and its loadable segments: what a uprobe needs (file offset of a function)
 * and what native symbolization needs (the function at an address). Reads only the headers and
 * the symbol and string tables; every offset and count is checked against the file, so garbage
 * gives an {@link ElfFormatException}, never a hang or another exception.
 */
public final class ElfFile implements AutoCloseable {
    public record Symbol(String name, long value, long size) {
    }

    /** Bound on one table read into memory (libjvm's .symtab is a few MiB). */
    static final long MAX_TABLE = 256L << 20;
    private static final int SHT_SYMTAB = 2;
    private static final int SHT_DYNSYM = 11;
    private static final int STT_OBJECT = 1;
    private static final int STT_FUNC = 2;
    private static final int STT_GNU_IFUNC = 10;

    private final Path path;
    private final Map<String, Symbol> byName = new HashMap<>();
    /** Data symbols (variables), only when opened with {@link #openWithData}. */
    private final Map<String, Symbol> objects = new HashMap<>();
    private final Symbol[] byAddress;
    private final List<ElfBytes.Segment> segments;

    private ElfFile(Path path, FileChannel ch, boolean withData) throws IOException {
        this.path = path;
        long fileSize = ch.size();
        ElfBytes.Header h = ElfBytes.Header.of(read(ch, 0, 64, fileSize), path.toString());
        int shentsize = h.shentsize();
        int shnum = h.shnum();
        segments = ElfBytes.Segment.of(read(ch, h.phoff(), (long) h.phnum() * h.phentsize(), fileSize), h);
        ByteBuffer sh = read(ch, h.shoff(), (long) shnum * shentsize, fileSize);
        List<Symbol> all = new ArrayList<>();
        for (int i = 0; i < shnum; i++) {
            int b = i * shentsize;
            int type = sh.getInt(b + 4);
            if (type != SHT_SYMTAB && type != SHT_DYNSYM) {
                continue;
            }
            long offset = sh.getLong(b + 24);
            long size = sh.getLong(b + 32);
            int link = sh.getInt(b + 40);
            long entsize = sh.getLong(b + 56);
            if (entsize < 24 || link < 0 || link >= shnum) {
                throw new ElfFormatException(path + ": bad symbol table " + i);
            }
            int lb = link * shentsize;
            ByteBuffer strings = read(ch, sh.getLong(lb + 24), sh.getLong(lb + 32), fileSize);
            ByteBuffer symbols = read(ch, offset, size, fileSize);
            long count = size / entsize;
            for (long s = 0; s < count; s++) {
                int e = (int) (s * entsize);
                int info = symbols.get(e + 4) & 0xf;
                long value = symbols.getLong(e + 8);
                if (withData && info == STT_OBJECT && value != 0 && symbols.getShort(e + 6) != 0) {
                    String name = string(strings, symbols.getInt(e));
                    if (!name.isEmpty()) {
                        objects.putIfAbsent(name, new Symbol(name, value, symbols.getLong(e + 16)));
                    }
                    continue;
                }
                if ((info != STT_FUNC && info != STT_GNU_IFUNC) || value == 0 || symbols.getShort(e + 6) == 0) {
                    continue;
                }
                String name = string(strings, symbols.getInt(e));
                if (name.isEmpty()) {
                    continue;
                }
                Symbol sym = new Symbol(name, value, symbols.getLong(e + 16));
                byName.putIfAbsent(name, sym);
                all.add(sym);
            }
        }
        byAddress = all.stream().sorted(Comparator.comparingLong(Symbol::value)).toArray(Symbol[]::new);
    }

    public static ElfFile open(Path path) throws IOException {
        return open(path, false);
    }

    /** Also reads the data symbols (global variables), for {@link #dataSymbol}. */
    public static ElfFile openWithData(Path path) throws IOException {
        return open(path, true);
    }

    private static ElfFile open(Path path, boolean withData) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return new ElfFile(path, ch, withData);
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new ElfFormatException(path + ": " + e.getMessage());
        }
    }

    private ByteBuffer read(FileChannel ch, long offset, long length, long fileSize) throws IOException {
        return ElfBytes.read(ch, offset, length, fileSize, MAX_TABLE, path + ": table");
    }

    private static String string(ByteBuffer strings, int offset) {
        String s = ElfBytes.cString(strings, offset);
        int at = s.indexOf('@');
        return at > 0 ? s.substring(0, at) : s; // versioned names: malloc@GLIBC_2.2.5
    }

    public Path path() {
        return path;
    }

    /** A defined function symbol by name. */
    public Optional<Symbol> symbol(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** A defined data symbol (a global variable) by name; only in a file opened with {@link #openWithData}. */
    public Optional<Symbol> dataSymbol(String name) {
        return Optional.ofNullable(objects.get(name));
    }

    /**
     * The run-time address of a link-time virtual address in a process that mapped this file at
     * {@code mappingStart} from file offset {@code mappingOffset} (a line of /proc/pid/maps).
     */
    public long runtimeAddress(long vaddr, long mappingStart, long mappingOffset) throws IOException {
        return vaddr - vaddr(mappingOffset) + mappingStart;
    }

    /** The file offset of a virtual address, through the loadable segment that holds it. */
    public long fileOffset(long vaddr) throws IOException {
        return ElfBytes.Segment.fileOffset(segments, vaddr).orElseThrow(
                () -> new ElfFormatException(path + ": address 0x" + Long.toHexString(vaddr) + " is in no loadable segment"));
    }

    /** The virtual address of a file offset, through the loadable segment that holds it (else the offset itself). */
    public long vaddr(long fileOffset) {
        for (ElfBytes.Segment s : segments) {
            if (fileOffset >= s.offset() && fileOffset < s.offset() + s.filesz()) {
                return fileOffset - s.offset() + s.vaddr();
            }
        }
        return fileOffset;
    }

    /** The function containing a virtual address (or the nearest one before it when sizes are 0). */
    public Optional<Symbol> symbolAt(long vaddr) {
        int i = Arrays.binarySearch(byAddress, new Symbol("", vaddr, 0), Comparator.comparingLong(Symbol::value));
        int at = i >= 0 ? i : -i - 2;
        if (at < 0) {
            return Optional.empty();
        }
        Symbol s = byAddress[at];
        return s.size() == 0 || vaddr < s.value() + s.size() ? Optional.of(s) : Optional.empty();
    }

    public int symbolCount() {
        return byAddress.length;
    }

    @Override
    public void close() {
        // everything was read at open
    }
}
