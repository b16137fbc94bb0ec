package io.jfrebpf.agent.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import java.util.OptionalLong;

/**
 * The symbols of an ELF64 little-endian object ({@code .dynsym} and {@code .symtab}) and its
 * loadable segments: what a uprobe needs (file offset of a function), what native symbolization
 * needs (the function at an address) and what the PostgreSQL probe needs (a global variable).
 *
 * <p>No object per symbol: the two symbol tables and their string tables are mapped read-only
 * (off the heap, in the page cache, shared with the loader's mapping of the same file) and read
 * where they are. A lookup by name goes through a .dynsym's GNU hash table, else through the
 * table's {@link NameIndex}, built by one pass at its first lookup (4 heap bytes a function or
 * datum: libjvm's .symtab in 340 KB), so that the several lookups of start-up read the table
 * once; the lookup by address builds, on its first call, an index of the function symbols
 * sorted by address (12 heap bytes a function: libjvm's 58,000 take 0.7 MB). A name becomes a
 * {@code String} only when its symbol is returned. Besides those indexes an open file holds a
 * few small objects and up to four mappings of at most {@link #MAX_TABLE} each, until
 * {@link #close}.
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
    private static final int SHT_GNU_HASH = 0x6ffffff6;
    private static final int STT_OBJECT = 1;
    private static final int STT_FUNC = 2;
    private static final int STT_GNU_IFUNC = 10;
    private static final int SYMBOL_SIZE = 24;

    /**
     * One symbol table, its entries and its string table as mapped, and for a .dynsym its GNU
     * hash table (null without one).
     */
    private record Table(MemorySegment symbols, long entsize, int count, MemorySegment strings, GnuHash hash) {
        /** For a pass over the table's names: a large window. */
        Reader scan() {
            return new Reader(this, new ElfBytes.Window(symbols, SYMBOL_SIZE), new ElfBytes.Window(strings, MAX_NAME));
        }

        /** For one symbol. */
        Reader one() {
            return new Reader(this, new ElfBytes.Window(symbols, SYMBOL_SIZE), new ElfBytes.Window(strings, 256));
        }

        /**
         * Entries a pass copies to the heap at once: a block of {@link #BLOCK_BYTES} at most, one
         * entry at least, and one when entries are not whole longs apart (no ELF64 linker makes
         * them so).
         */
        int perBlock() {
            return entsize % 8 != 0 ? 1 : (int) Math.max(1, Math.min(count, BLOCK_BYTES / entsize));
        }

        /** An array for {@link #read} of {@link #perBlock} entries. */
        long[] block() {
            return new long[(int) (((long) (perBlock() - 1) * entsize + SYMBOL_SIZE) / 8)];
        }

        /**
         * Entries [first, first + n) as little-endian longs, {@code entsize / 8} an entry: the
         * first holds st_name (bits 0-31), st_info (32-39) and st_shndx (48-63), then st_value,
         * st_size. One bulk copy, then plain array reads: a pass runs cold, interpreted at first.
         */
        void read(int first, int n, long[] into) {
            long bytes = (long) (n - 1) * entsize + SYMBOL_SIZE;
            MemorySegment.copy(symbols, LONGS, first * entsize, into, 0, (int) (bytes / 8));
        }
    }

    /** What a pass copies at once: 1,365 entries of 24 bytes. */
    private static final long BLOCK_BYTES = 32 << 10;
    /**
     * The entries as longs in the host's order: the file's, little-endian, on the hosts this
     * runs on (x86-64, arm64); the layout the rest of the agent copies records with.
     */
    private static final ValueLayout.OfLong LONGS = ValueLayout.JAVA_LONG_UNALIGNED;

    private static int nameOf(long word) {
        return (int) word;
    }

    private static int typeOf(long word) {
        return (int) (word >>> 32) & 0xf;
    }

    /** Defined: in a section (st_shndx not SHN_UNDEF) and at an address. */
    private static boolean definedOf(long word, long value) {
        return (word >>> 48) != 0 && value != 0;
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
            if (at >= size || !strings.startsWith(at, name)) {
                return false;
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
            return at < strings.size() && strings.startsWith(at, prefix);
        }

        /** Where the name of symbol i ends, without a version (a name that starts with '@' is kept whole). */
        long nameEnd(int i) {
            long at = name(i);
            long limit = Math.min(strings.size(), at + MAX_NAME);
            return at < limit ? strings.end(at, limit, strings.get(at) != '@') : at;
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
    /** Each table's name index, once built. */
    private final NameIndex[] byName;
    /** Its users ({@link ElfFiles} shares one file): the tables are unmapped when the last closes it. */
    private int users = 1;
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
        int dynsymSection = -1;
        int hashSection = -1;
        List<Table> found = new java.util.ArrayList<>(2);
        for (int i = 0; i < shnum; i++) {
            int b = i * shentsize;
            int type = sh.getInt(b + 4);
            if (type == SHT_GNU_HASH && hashSection < 0) {
                hashSection = i;
            }
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
            Table t = new Table(symbols, entsize, (int) (size / entsize), strings, null);
            found.add(t);
            if (type == SHT_SYMTAB) {
                symtab = t;
            } else {
                dynsym = t;
                dynsymSection = i;
            }
        }
        if (dynsym != null && hashSection >= 0 && sh.getInt(hashSection * shentsize + 40) == dynsymSection) {
            int b = hashSection * shentsize;
            GnuHash hash = GnuHash.of(map(ch, sh.getLong(b + 24), sh.getLong(b + 32), fileSize), dynsym.count());
            if (hash != null) {
                // by identity: a record's equals is bootstrapped through method handles at its first call (~17 ms at start-up)
                found.set(found.get(0) == dynsym ? 0 : 1, new Table(dynsym.symbols(), dynsym.entsize(), dynsym.count(), dynsym.strings(), hash));
            }
        }
        tables = List.copyOf(found);
        byName = new NameIndex[tables.size()];
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

    /** The defined data symbols (global or static variables) of these names, in one pass over the tables: those found, by name. */
    public Map<String, Symbol> dataSymbols(Collection<String> names) {
        return find(names, true);
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
        long key = NameIndex.prefixKey(want);
        Map<String, Symbol> found = new LinkedHashMap<>();
        for (int ti = 0; ti < tables.size() && found.size() < max; ti++) {
            Table table = tables.get(ti);
            Reader t = table.one();
            if (key != 0) {
                // the names that start so share their key: the entries of one group, in table order
                NameIndex names = names(ti);
                long range = names.range(key);
                for (int e = (int) (range >>> 32); e < (int) range && found.size() < max; e++) {
                    take(t, names.entry(e), want, data, found);
                }
            } else {
                // under eight bytes: every entry (no caller asks so; a test does)
                for (int i = 0; i < table.count() && found.size() < max; i++) {
                    take(t, i, want, data, found);
                }
            }
        }
        return List.copyOf(found.values());
    }

    /** Symbol i into found if it is of the kind, defined and named with this prefix, and its name is not there yet. */
    private static void take(Reader t, int i, byte[] prefix, boolean data, Map<String, Symbol> found) {
        if (kind(t.type(i), data) && t.defined(i) && t.named(i) && t.startsWith(i, prefix)) {
            Symbol symbol = t.symbol(i);
            found.putIfAbsent(symbol.name(), symbol);
        }
    }

    private synchronized Map<String, Symbol> find(Collection<String> names, boolean data) {
        open();
        Map<String, Symbol> found = new LinkedHashMap<>();
        List<String> wanted = new java.util.ArrayList<>(names.size());
        for (String n : names) {
            if (!n.isEmpty() && !wanted.contains(n)) {
                wanted.add(n);
            }
        }
        byte[][] bytes = new byte[wanted.size()][];
        for (int w = 0; w < bytes.length; w++) {
            bytes[w] = wanted.get(w).getBytes(StandardCharsets.UTF_8);
        }
        for (int ti = 0; ti < tables.size() && found.size() < bytes.length; ti++) {
            Table table = tables.get(ti);
            Reader t = table.one();
            int[] candidates = new int[16];
            for (int w = 0; w < bytes.length; w++) {
                if (found.containsKey(wanted.get(w))) {
                    continue;
                }
                if (table.hash() != null) {
                    // a .dynsym's GNU hash table: a few entries read a name
                    int n = table.hash().candidates(GnuHash.hash(bytes[w]), candidates);
                    for (int c = 0; c < n && !match(t, candidates[c], bytes[w], data, wanted.get(w), found); c++) {
                        // the first that matches
                    }
                } else {
                    // the entries keyed as this name, in table order: the first definition wins
                    NameIndex index = names(ti);
                    long range = index.range(NameIndex.key(bytes[w]));
                    for (int e = (int) (range >>> 32); e < (int) range && !match(t, index.entry(e), bytes[w], data, wanted.get(w), found); e++) {
                        // the first that matches
                    }
                }
            }
        }
        return found;
    }

    /** Whether symbol i is a defined symbol of the kind called name: then it is put into found. */
    private static boolean match(Reader t, int i, byte[] name, boolean data, String wanted, Map<String, Symbol> found) {
        if (kind(t.type(i), data) && t.defined(i) && t.named(i, name)) {
            found.put(wanted, t.symbol(i));
            return true;
        }
        return false;
    }

    private static boolean kind(int type, boolean data) {
        return data ? type == STT_OBJECT : type == STT_FUNC || type == STT_GNU_IFUNC;
    }

    /** Table ti's name index, built by one pass over it at its first lookup by name. */
    private NameIndex names(int ti) {
        if (byName[ti] == null) {
            Table table = tables.get(ti);
            ElfBytes.Window strings = table.scan().strings;
            long size = table.strings().byteSize();
            int shift = NameIndex.shiftFor(table.count());
            int[] buckets = new int[table.count()];
            long[] block = table.block();
            int step = (int) (table.entsize() / 8);
            int per = table.perBlock();
            long[] names = new long[per];
            for (int first = 0; first < table.count(); first += per) {
                int count = Math.min(per, table.count() - first);
                table.read(first, count, block);
                named(block, count, step, size, names);
                strings.buckets(names, count, shift, buckets, first);
            }
            byName[ti] = NameIndex.of(buckets, buckets.length, shift);
        }
        return byName[ti];
    }

    /**
     * The name offsets of a block of {@code count} entries into names: -1 for one that is not a
     * defined function or datum with a name in the table. A method of its own: the JIT compiles
     * this loop alone.
     */
    private static void named(long[] block, int count, int step, long size, long[] names) {
        for (int j = 0, o = 0; j < count; j++, o += step) {
            long word = block[o];
            int type = typeOf(word);
            long name = Integer.toUnsignedLong(nameOf(word));
            boolean indexed = (type == STT_FUNC || type == STT_GNU_IFUNC || type == STT_OBJECT) && definedOf(word, block[o + 1]) && name < size;
            names[j] = indexed ? name : -1;
        }
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
        OptionalLong offset = ElfBytes.Segment.fileOffset(segments, vaddr);
        if (offset.isEmpty()) {
            throw new ElfFormatException(path + ": address 0x" + Long.toHexString(vaddr) + " is in no loadable segment");
        }
        return offset.getAsLong();
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

    /** Heap bytes this object holds beyond a few small objects: its address and name indexes, once built. */
    public synchronized long heapBytes() {
        long bytes = byAddress == null ? 0 : byAddress.bytes();
        for (NameIndex n : byName) {
            bytes += n == null ? 0 : n.bytes();
        }
        return bytes;
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
                ElfBytes.Window names = table.scan().strings;
                long strings = table.strings().byteSize();
                long[] block = table.block();
                int step = (int) (table.entsize() / 8);
                int per = table.perBlock();
                for (int first = 0; first < table.count() && k < n; first += per) {
                    int count = Math.min(per, table.count() - first);
                    table.read(first, count, block);
                    k = functions(block, count, step, ti << TABLE_SHIFT | first, names, strings, values, refs, k);
                }
            }
            Reader[] names = new Reader[tables.size()];
            for (int ti = 0; ti < names.length; ti++) {
                names[ti] = tables.get(ti).one();
            }
            byAddress = AddressIndex.of(values, refs, k, new Preferred(names));
        }
        return byAddress;
    }

    /**
     * The named, defined functions of a block of {@code count} entries into values and refs
     * (the first entry's reference is {@code ref}), from k on while there is room; the new k. A
     * method of its own: the JIT compiles this loop alone, not the index's set-up and sort with it.
     */
    private static int functions(long[] block, int count, int step, int ref, ElfBytes.Window names, long strings, long[] values, int[] refs, int k) {
        for (int j = 0, o = 0; j < count && k < values.length; j++, o += step) {
            long word = block[o];
            int type = typeOf(word);
            long value = block[o + 1];
            long at = Integer.toUnsignedLong(nameOf(word));
            if ((type == STT_FUNC || type == STT_GNU_IFUNC) && definedOf(word, value) && at < strings && names.get(at) != 0) {
                values[k] = value;
                refs[k++] = ref + j;
            }
        }
        return k;
    }

    /** {@link #preferred} for the index: a class, not a lambda (whose bootstrap costs milliseconds at start-up). */
    private record Preferred(Reader[] names) implements java.util.function.IntBinaryOperator {
        @Override
        public int applyAsInt(int earlier, int later) {
            return preferred(names, earlier, later);
        }
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

    private void open() {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    /** One more user, who closes it once when done. */
    synchronized ElfFile retain() {
        open();
        users++;
        return this;
    }

    /** Done with it: the last user's close unmaps the tables, and a closed file answers nothing more. */
    @Override
    public synchronized void close() {
        if (!closed && --users == 0) {
            closed = true;
            arena.close();
        }
    }
}
