package io.jfrebpf.agent.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The symbols of an ELF64 little-endian object ({@code .dynsym} and {@code .symtab}) and its
 * loadable segments: what a uprobe needs (file offset of a function), what native symbolization
 * needs (the function at an address) and what the PostgreSQL probe needs (a global variable).
 *
 * <p>No object per symbol: the two symbol tables and their string tables are mapped read-only
 * (off the heap, in the page cache, shared with the loader's mapping of the same file) and read
 * where they are. A lookup by name scans a table comparing bytes; the lookup by address builds,
 * on its first call, an index of the function symbols sorted by address (12 heap bytes a
 * function: libjvm's 59,000 take 0.7 MB); a name becomes a {@code String} only when its symbol
 * is returned. Besides that index an open file holds a few small objects and up to four
 * mappings of at most {@link #MAX_TABLE} each, until {@link #close}.
 *
 * <p>Every offset and count is checked against the file when it is opened, so garbage gives an
 * {@link ElfFormatException}, never a hang or another exception, and a lookup never reads
 * outside the tables.
 */
public final class ElfFile implements AutoCloseable {
    public record Symbol(String name, long value, long size) {
    }

    /** Bound on one table mapped or read (libjvm's .strtab is 3.3 MiB). */
    static final long MAX_TABLE = 256L << 20;
    /** Bound on a name decoded (libjvm's longest is 329 bytes): a table without NULs gives no huge String. */
    static final int MAX_NAME = 4096;
    /** Bound on the functions indexed by address (48 MB of index; a browser's binary has under a million). */
    static final int MAX_FUNCTIONS = 1 << 22;
    private static final int SHT_SYMTAB = 2;
    private static final int SHT_DYNSYM = 11;
    private static final int STT_OBJECT = 1;
    private static final int STT_FUNC = 2;
    private static final int STT_GNU_IFUNC = 10;
    private static final int SYMBOL_SIZE = 24;

    /** One symbol table, its entries and its string table as mapped. */
    private record Table(MemorySegment symbols, long entsize, int count, MemorySegment strings) {
        /** For a pass over the table: large windows. */
        Reader scan() {
            return new Reader(this, new ElfBytes.Window(symbols, 64 << 10), new ElfBytes.Window(strings, MAX_NAME));
        }

        /** For one symbol. */
        Reader one() {
            return new Reader(this, new ElfBytes.Window(symbols, SYMBOL_SIZE), new ElfBytes.Window(strings, 256));
        }
    }

    /** The fields of a table's symbols, through windows ({@link ElfBytes.Window}). */
    private static final class Reader {
        private final long entsize;
        private final ElfBytes.Window symbols;
        private final ElfBytes.Window strings;

        Reader(Table t, ElfBytes.Window symbols, ElfBytes.Window strings) {
            this.entsize = t.entsize();
            this.symbols = symbols;
            this.strings = strings;
        }

        int type(int i) {
            return symbols.get(i * entsize + 4) & 0xf;
        }

        boolean defined(int i) {
            return symbols.getShort(i * entsize + 6) != 0 && value(i) != 0;
        }

        long name(int i) {
            return Integer.toUnsignedLong(symbols.getInt(i * entsize));
        }

        long value(int i) {
            return symbols.getLong(i * entsize + 8);
        }

        long size(int i) {
            return symbols.getLong(i * entsize + 16);
        }

        /** Whether symbol i has a name: one inside the string table, not empty. */
        boolean named(int i) {
            long at = name(i);
            return at < strings.size() && strings.get(at) != 0;
        }

        /** Whether symbol i is called {@code name}: its bytes, then the end, a NUL or a version ({@code malloc@GLIBC_2.2.5}). */
        boolean named(int i, byte[] name) {
            long at = name(i);
            long size = strings.size();
            if (at >= size || size - at < name.length) {
                return false;
            }
            for (int k = 0; k < name.length; k++) {
                if (strings.get(at + k) != name[k]) {
                    return false;
                }
            }
            if (at + name.length == size) {
                return true;
            }
            byte next = strings.get(at + name.length);
            return next == 0 || (next == '@' && name[0] != '@');
        }

        /** Whether symbol i's name starts with these bytes. */
        boolean startsWith(int i, byte[] prefix) {
            long at = name(i);
            long size = strings.size();
            if (at >= size || size - at < prefix.length) {
                return false;
            }
            for (int k = 0; k < prefix.length; k++) {
                if (strings.get(at + k) != prefix[k]) {
                    return false;
                }
            }
            return true;
        }

        /** Where the name of symbol i ends, without a version (a name that starts with '@' is kept whole). */
        long nameEnd(int i) {
            long at = name(i);
            long end = at;
            long limit = Math.min(strings.size(), at + MAX_NAME);
            boolean versioned = at < limit && strings.get(at) != '@';
            while (end < limit) {
                byte b = strings.get(end);
                if (b == 0 || (b == '@' && versioned)) {
                    break;
                }
                end++;
            }
            return end;
        }

        /** The underscores symbol i's name starts with. */
        int underscores(int i) {
            long at = name(i);
            long end = nameEnd(i);
            int n = 0;
            while (at + n < end && strings.get(at + n) == '_') {
                n++;
            }
            return n;
        }

        /** The hash of symbol i's name, as {@link #hash(byte[])} gives it for the same bytes. */
        int nameHash(int i) {
            long at = name(i);
            long end = nameEnd(i);
            int h = 0;
            for (long k = at; k < end; k++) {
                h = 31 * h + strings.get(k);
            }
            return h;
        }

        /**
         * The first two bytes of symbol i's name as one number (a version's '@' and the end of
         * the table read as the NUL that ends a name; 0 for a name outside the table), as
         * {@link #prefix(byte[])} gives it.
         */
        int prefix(int i) {
            long at = name(i);
            if (at >= strings.size()) {
                return 0;
            }
            int first = strings.get(at) & 0xff;
            int second = at + 1 < strings.size() ? strings.get(at + 1) & 0xff : 0;
            return first << 8 | (second == '@' && first != '@' ? 0 : second);
        }

        static int prefix(byte[] name) {
            return (name[0] & 0xff) << 8 | (name.length > 1 ? name[1] & 0xff : 0);
        }

        static int hash(byte[] name) {
            int h = 0;
            for (byte b : name) {
                h = 31 * h + b;
            }
            return h;
        }

        Symbol symbol(int i) {
            return new Symbol(strings.string(name(i), nameEnd(i)), value(i), size(i));
        }
    }

    /** Where an index entry's symbol is: the table (0 or 1, in section order) and the entry in it. */
    private static final int TABLE_SHIFT = 30;

    private final Path path;
    private final Arena arena;
    private final List<ElfBytes.Segment> segments;
    /** The .dynsym and .symtab there are, in section order (the first wins a name both define). */
    private final List<Table> tables;
    private AddressIndex byAddress;
    private boolean closed;

    private ElfFile(Path path, FileChannel ch, Arena arena) throws IOException {
        this.path = path;
        this.arena = arena;
        long fileSize = ch.size();
        ElfBytes.Header h = ElfBytes.Header.of(read(ch, 0, 64, fileSize), path.toString());
        int shentsize = h.shentsize();
        int shnum = h.shnum();
        segments = ElfBytes.Segment.of(read(ch, h.phoff(), (long) h.phnum() * h.phentsize(), fileSize), h);
        ByteBuffer sh = read(ch, h.shoff(), (long) shnum * shentsize, fileSize);
        Table dynsym = null;
        Table symtab = null;
        List<Table> found = new java.util.ArrayList<>(2);
        for (int i = 0; i < shnum; i++) {
            int b = i * shentsize;
            int type = sh.getInt(b + 4);
            if ((type != SHT_SYMTAB || symtab != null) && (type != SHT_DYNSYM || dynsym != null)) {
                continue;
            }
            long offset = sh.getLong(b + 24);
            long size = sh.getLong(b + 32);
            int link = sh.getInt(b + 40);
            long entsize = sh.getLong(b + 56);
            if (entsize < SYMBOL_SIZE || link < 0 || link >= shnum) {
                throw new ElfFormatException(path + ": bad symbol table " + i);
            }
            int lb = link * shentsize;
            MemorySegment strings = map(ch, sh.getLong(lb + 24), sh.getLong(lb + 32), fileSize);
            MemorySegment symbols = map(ch, offset, size, fileSize);
            Table t = new Table(symbols, entsize, (int) (size / entsize), strings);
            found.add(t);
            if (type == SHT_SYMTAB) {
                symtab = t;
            } else {
                dynsym = t;
            }
        }
        tables = List.copyOf(found);
    }

    public static ElfFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return new ElfFile(path, ch, arena);
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            arena.close();
            throw new ElfFormatException(path + ": " + e.getMessage());
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private ByteBuffer read(FileChannel ch, long offset, long length, long fileSize) throws IOException {
        return ElfBytes.read(ch, offset, length, fileSize, MAX_TABLE, path + ": table");
    }

    /** {@code length} bytes at {@code offset}, mapped read-only; checked like {@link #read}. */
    private MemorySegment map(FileChannel ch, long offset, long length, long fileSize) throws IOException {
        if (offset < 0 || length < 0 || length > MAX_TABLE || offset > fileSize || length > fileSize - offset) {
            throw new ElfFormatException(path + ": table: " + length + " bytes at " + offset + " are outside the file");
        }
        return length == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, offset, length, arena);
    }

    public Path path() {
        return path;
    }

    /** A defined function symbol by name. */
    public Optional<Symbol> symbol(String name) {
        return Optional.ofNullable(symbols(List.of(name)).get(name));
    }

    /**
     * The defined function symbols of these names, in one pass over the tables (libjvm's .symtab
     * has 70,000 symbols): those found, by name.
     */
    public Map<String, Symbol> symbols(Collection<String> names) {
        return find(names, false);
    }

    /** A defined data symbol (a global variable) by name. */
    public Optional<Symbol> dataSymbol(String name) {
        return Optional.ofNullable(find(List.of(name), true).get(name));
    }

    /**
     * The defined data symbols whose names start with {@code prefix} (HotSpot's StubRoutines
     * statics), at most {@code max}, in one pass over the tables: only they become objects. A
     * name both tables define is given once, as the first defines it.
     */
    public List<Symbol> dataSymbolsStartingWith(String prefix, int max) {
        return startingWith(prefix, max, true);
    }

    /**
     * The defined function symbols whose names start with {@code prefix} (the instances of a C++
     * template, by their mangled name), at most {@code max}, as {@link #dataSymbolsStartingWith}.
     */
    public List<Symbol> functionsStartingWith(String prefix, int max) {
        return startingWith(prefix, max, false);
    }

    private synchronized List<Symbol> startingWith(String prefix, int max, boolean data) {
        open();
        byte[] want = prefix.getBytes(StandardCharsets.UTF_8);
        Map<String, Symbol> found = new LinkedHashMap<>();
        for (Table table : tables) {
            Reader t = table.scan();
            for (int i = 0; i < table.count() && found.size() < max; i++) {
                if (t.startsWith(i, want) && (data ? t.type(i) == STT_OBJECT && t.defined(i) && t.named(i) : function(t, i))) {
                    Symbol symbol = t.symbol(i);
                    found.putIfAbsent(symbol.name(), symbol);
                }
            }
        }
        return List.copyOf(found.values());
    }

    private synchronized Map<String, Symbol> find(Collection<String> names, boolean data) {
        open();
        Map<String, Symbol> found = new LinkedHashMap<>();
        String[] wanted = names.stream().filter(n -> !n.isEmpty()).distinct().toArray(String[]::new);
        // the names by their first two bytes and by the hash of their bytes: a symbol's name is
        // read where it lies, whole only when it starts as one of them, and compared only with
        // the names of its hash
        long[] prefixes = new long[1 << 10];
        byte[][] bytes = new byte[wanted.length][];
        int[] hashes = new int[wanted.length];
        int slots = Integer.highestOneBit(Math.max(1, wanted.length) * 2) * 2;
        int[] slot = new int[slots];
        java.util.Arrays.fill(slot, -1);
        int[] next = new int[wanted.length];
        for (int w = 0; w < wanted.length; w++) {
            bytes[w] = wanted[w].getBytes(StandardCharsets.UTF_8);
            hashes[w] = Reader.hash(bytes[w]);
            int p = Reader.prefix(bytes[w]);
            prefixes[p >>> 6] |= 1L << p;
            int s = hashes[w] & (slots - 1);
            next[w] = slot[s];
            slot[s] = w;
        }
        for (Table table : tables) {
            Reader t = table.scan();
            for (int i = 0; i < table.count() && found.size() < wanted.length; i++) {
                // cheapest test first: the name's first two bytes leave a few of 70,000 symbols
                // (no wanted name starts with a NUL, so a name that is empty or outside the table
                // is left here too); a pass runs interpreted, cold, and every read costs
                int p = t.prefix(i);
                if ((prefixes[p >>> 6] & 1L << p) == 0) {
                    continue;
                }
                int type = t.type(i);
                boolean kind = data ? type == STT_OBJECT : type == STT_FUNC || type == STT_GNU_IFUNC;
                if (!kind || !t.defined(i)) {
                    continue;
                }
                int h = t.nameHash(i);
                for (int w = slot[h & (slots - 1)]; w >= 0; w = next[w]) {
                    if (hashes[w] == h && !found.containsKey(wanted[w]) && t.named(i, bytes[w])) {
                        found.put(wanted[w], t.symbol(i));
                        break;
                    }
                }
            }
        }
        return found;
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

    /**
     * The function containing a virtual address: the last one starting at or below it (of those
     * starting at one address, the one {@link #preferred} names), if its size reaches the address
     * or it has no size.
     */
    public synchronized Optional<Symbol> symbolAt(long vaddr) {
        AddressIndex index = index();
        int at = index.floor(vaddr);
        if (at < 0) {
            return Optional.empty();
        }
        int ref = index.payload(at);
        Reader t = tables.get(ref >>> TABLE_SHIFT).one();
        int i = ref & ((1 << TABLE_SHIFT) - 1);
        long size = t.size(i);
        return size == 0 || Long.compareUnsigned(vaddr - t.value(i), size) < 0 ? Optional.of(t.symbol(i)) : Optional.empty();
    }

    /** Function symbols at distinct addresses (what the address index holds). */
    public synchronized int symbolCount() {
        return index().size();
    }

    /** Heap bytes this object holds beyond a few small objects: its address index, once built. */
    public synchronized long heapBytes() {
        return byAddress == null ? 0 : byAddress.bytes();
    }

    private AddressIndex index() {
        open();
        if (byAddress == null) {
            int n = 0;
            for (Table table : tables) {
                n += table.count();
            }
            n = Math.min(n, MAX_FUNCTIONS);
            long[] values = new long[n]; // then cut to the functions among them
            int[] refs = new int[n];
            int k = 0;
            for (int ti = 0; ti < tables.size(); ti++) {
                Table table = tables.get(ti);
                Reader t = table.scan();
                for (int i = 0; i < table.count() && k < n; i++) {
                    if (function(t, i)) {
                        values[k] = t.value(i);
                        refs[k++] = ti << TABLE_SHIFT | i;
                    }
                }
            }
            Reader[] names = tables.stream().map(Table::one).toArray(Reader[]::new);
            byAddress = AddressIndex.of(values, refs, k, (earlier, later) -> preferred(names, earlier, later));
        }
        return byAddress;
    }

    /**
     * Of two functions that start at one address (index references, the earlier first), the one
     * that names it: the public name over the internal aliases of its library (open over __open,
     * read over __read, malloc over __libc_malloc), then the shorter (open over open64), else the
     * later (.symtab's over .dynsym's, as before).
     */
    private static int preferred(Reader[] names, int earlier, int later) {
        Reader a = names[earlier >>> TABLE_SHIFT];
        Reader b = names[later >>> TABLE_SHIFT];
        int ia = earlier & ((1 << TABLE_SHIFT) - 1);
        int ib = later & ((1 << TABLE_SHIFT) - 1);
        int ua = a.underscores(ia);
        int ub = b.underscores(ib);
        if (ua != ub) {
            return ua < ub ? earlier : later;
        }
        return a.nameEnd(ia) - a.name(ia) < b.nameEnd(ib) - b.name(ib) ? earlier : later;
    }

    private static boolean function(Reader t, int i) {
        int type = t.type(i);
        return (type == STT_FUNC || type == STT_GNU_IFUNC) && t.defined(i) && t.named(i);
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    /** Unmaps the tables; a closed file answers nothing more. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
