package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A plain reader of ELF64 symbol tables, the reference that {@link ElfFile} must agree with: the
 * whole file on the heap, every table read at open into a record and a String a symbol, sorted
 * with a comparator: how symbols were read before they were read where they lie. It shares no
 * code with {@link ElfFile} (nor its {@code ElfBytes}); it refuses what that refuses (a header
 * that is no ELF64 little-endian, entry sizes too small, a table outside the file or over
 * {@link ElfFile#MAX_TABLE}) by its own checks. Where several functions start at one address,
 * {@link #allows} takes any of them.
 */
public final class ElfReference {
    private static final int SHT_SYMTAB = 2;
    private static final int SHT_DYNSYM = 11;
    private static final int STT_OBJECT = 1;
    private static final int STT_FUNC = 2;
    private static final int STT_GNU_IFUNC = 10;

    private final Path path;
    private final ByteBuffer file;
    private final Map<String, ElfFile.Symbol> byName = new HashMap<>();
    private final Map<String, ElfFile.Symbol> objects = new HashMap<>();
    private final Map<Long, Integer> starts = new HashMap<>();
    private final ElfFile.Symbol[] byAddress;
    /** Symbol tables the file has, by type: this reader reads every one, {@link ElfFile} the first of each type. */
    private int symtabs;
    private int dynsyms;

    private ElfReference(Path path, byte[] bytes) throws ElfFormatException {
        this.path = path;
        this.file = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer h = part(0, 64);
        if (h.getInt(0) != 0x464c457f || h.get(4) != 2 || h.get(5) != 1) {
            throw new ElfFormatException(path + " is not an ELF64 little-endian file");
        }
        long phoff = h.getLong(32);
        long shoff = h.getLong(40);
        int phentsize = Short.toUnsignedInt(h.getShort(54));
        int phnum = Short.toUnsignedInt(h.getShort(56));
        int shentsize = Short.toUnsignedInt(h.getShort(58));
        int shnum = Short.toUnsignedInt(h.getShort(60));
        if ((phnum > 0 && phentsize < 56) || (shnum > 0 && shentsize < 64)) {
            throw new ElfFormatException(path + ": bad header entry sizes");
        }
        part(phoff, (long) phnum * phentsize);
        ByteBuffer sh = part(shoff, (long) shnum * shentsize);
        List<ElfFile.Symbol> all = new ArrayList<>();
        for (int i = 0; i < shnum; i++) {
            int b = i * shentsize;
            int type = sh.getInt(b + 4);
            if (type != SHT_SYMTAB && type != SHT_DYNSYM) {
                continue;
            }
            if (type == SHT_SYMTAB) {
                symtabs++;
            } else {
                dynsyms++;
            }
            long offset = sh.getLong(b + 24);
            long size = sh.getLong(b + 32);
            int link = sh.getInt(b + 40);
            long entsize = sh.getLong(b + 56);
            if (entsize < 24 || link < 0 || link >= shnum) {
                throw new ElfFormatException(path + ": bad symbol table " + i);
            }
            int lb = link * shentsize;
            ByteBuffer strings = part(sh.getLong(lb + 24), sh.getLong(lb + 32));
            ByteBuffer symbols = part(offset, size);
            for (long s = 0; s < size / entsize; s++) {
                int e = (int) (s * entsize);
                int info = symbols.get(e + 4) & 0xf;
                boolean defined = symbols.getShort(e + 6) != 0 && symbols.getLong(e + 8) != 0;
                if (!defined || (info != STT_OBJECT && info != STT_FUNC && info != STT_GNU_IFUNC)) {
                    continue;
                }
                String name = name(strings, symbols.getInt(e));
                if (name.isEmpty()) {
                    continue;
                }
                ElfFile.Symbol sym = new ElfFile.Symbol(name, symbols.getLong(e + 8), symbols.getLong(e + 16));
                if (info == STT_OBJECT) {
                    objects.putIfAbsent(name, sym);
                } else {
                    byName.putIfAbsent(name, sym);
                    starts.merge(sym.value(), 1, Integer::sum);
                    all.add(sym);
                }
            }
        }
        byAddress = all.stream().sorted(Comparator.comparingLong(ElfFile.Symbol::value)).toArray(ElfFile.Symbol[]::new);
    }

    public static ElfReference open(Path path) throws IOException {
        try {
            return new ElfReference(path, Files.readAllBytes(path));
        } catch (IndexOutOfBoundsException e) {
            throw new ElfFormatException(path + ": " + e.getMessage());
        }
    }

    /** The bytes [offset, offset + length) of the file; refused outside it or over the table bound. */
    private ByteBuffer part(long offset, long length) throws ElfFormatException {
        int size = file.capacity();
        if (offset < 0 || length < 0 || length > ElfFile.MAX_TABLE || offset > size || offset + length > size) {
            throw new ElfFormatException(path + ": " + length + " bytes at " + offset + " are outside the file");
        }
        return file.slice((int) offset, (int) length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The NUL-terminated name at offset ("" outside the table), without a version (malloc@GLIBC_2.2.5) unless it starts with '@'. */
    private static String name(ByteBuffer strings, int offset) {
        if (offset < 0 || offset >= strings.limit()) {
            return "";
        }
        int end = offset;
        while (end < strings.limit() && strings.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - offset];
        strings.get(offset, bytes);
        String s = new String(bytes, StandardCharsets.UTF_8);
        int at = s.indexOf('@');
        return at > 0 ? s.substring(0, at) : s;
    }

    public Optional<ElfFile.Symbol> symbol(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Optional<ElfFile.Symbol> dataSymbol(String name) {
        return Optional.ofNullable(objects.get(name));
    }

    public Optional<ElfFile.Symbol> symbolAt(long vaddr) {
        int i = Arrays.binarySearch(byAddress, new ElfFile.Symbol("", vaddr, 0), Comparator.comparingLong(ElfFile.Symbol::value));
        int at = i >= 0 ? i : -i - 2;
        if (at < 0) {
            return Optional.empty();
        }
        ElfFile.Symbol s = byAddress[at];
        return s.size() == 0 || vaddr < s.value() + s.size() ? Optional.of(s) : Optional.empty();
    }

    /**
     * The functions that start where the last one at or below vaddr starts, when there are
     * several (aliases: open, __open, open64); empty else. Which of them names an address is a
     * choice {@link ElfFile} makes and this reader does not: any one of them that covers it, or
     * none if the one chosen does not.
     */
    public List<ElfFile.Symbol> aliasesAt(long vaddr) {
        int i = Arrays.binarySearch(byAddress, new ElfFile.Symbol("", vaddr, 0), Comparator.comparingLong(ElfFile.Symbol::value));
        int at = i >= 0 ? i : -i - 2;
        if (at < 0) {
            return List.of();
        }
        long start = byAddress[at].value();
        if (starts.getOrDefault(start, 0) < 2) {
            return List.of();
        }
        int from = at;
        while (from > 0 && byAddress[from - 1].value() == start) {
            from--;
        }
        int to = at;
        while (to + 1 < byAddress.length && byAddress[to + 1].value() == start) {
            to++;
        }
        return List.of(Arrays.copyOfRange(byAddress, from, to + 1));
    }

    /** Whether ElfFile's answer at vaddr is one this reader allows (see {@link #aliasesAt}). */
    public boolean allows(long vaddr, Optional<ElfFile.Symbol> got) {
        List<ElfFile.Symbol> aliases = aliasesAt(vaddr);
        if (aliases.isEmpty()) {
            return symbolAt(vaddr).equals(got);
        }
        if (got.isEmpty()) {
            return aliases.stream().anyMatch(f -> f.size() != 0 && vaddr >= f.value() + f.size());
        }
        return aliases.contains(got.get()) && (got.get().size() == 0 || vaddr < got.get().value() + got.get().size());
    }

    /** The functions, sorted by address. */
    public List<ElfFile.Symbol> functions() {
        return List.of(byAddress);
    }

    public List<String> functionNames() {
        return List.copyOf(byName.keySet());
    }

    public List<String> dataNames() {
        return List.copyOf(objects.keySet());
    }

    /** Whether the file has one symbol table of each type at most ({@link ElfFile} reads only the first). */
    public boolean oneTableOfEachType() {
        return symtabs <= 1 && dynsyms <= 1;
    }
}
