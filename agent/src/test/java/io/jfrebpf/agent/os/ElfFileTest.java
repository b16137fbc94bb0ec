package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The symbols of real objects of this machine, checked against {@code readelf -sW}: by name (the
 * first definition, dynamic before static, versions cut), by address (the last function starting
 * at or below it, within its size or of size 0) and data symbols; and the odd cases on a small
 * image made for them.
 */
class ElfFileTest {
    static final Path LIBJVM = Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so");
    static final Path POSTGRES = Path.of("/usr/lib/postgresql/15/bin/postgres");

    /** One line of readelf -sW, its name without a version. */
    record Entry(String name, long value, long size, String type, boolean defined) {
        boolean function() {
            return (type.equals("FUNC") || type.equals("IFUNC")) && defined && value != 0 && !name.isEmpty();
        }
    }

    static List<Entry> readelf(Path file) throws Exception {
        Process p = new ProcessBuilder("readelf", "-sW", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        List<Entry> entries = new ArrayList<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 7 || !f[0].matches("\\d+:")) {
                continue;
            }
            String name = f.length > 7 ? f[7] : "";
            int at = name.indexOf('@');
            if (at > 0) {
                name = name.substring(0, at);
            }
            long size = f[2].startsWith("0x") ? Long.parseUnsignedLong(f[2].substring(2), 16) : Long.parseLong(f[2]);
            entries.add(new Entry(name, Long.parseUnsignedLong(f[1], 16), size, f[3], !f[6].equals("UND")));
        }
        return entries;
    }

    /** What the lookup by address must answer, from readelf's lines in their order. */
    static Optional<Entry> expectedAt(TreeMap<Long, Entry> byStart, long vaddr) {
        Map.Entry<Long, Entry> e = byStart.floorEntry(vaddr);
        if (e == null) {
            return Optional.empty();
        }
        Entry s = e.getValue();
        return s.size() == 0 || vaddr < s.value() + s.size() ? Optional.of(s) : Optional.empty();
    }

    /** Of two functions at one address, the one that names it: fewer leading underscores, then the shorter name, else the later. */
    static Entry preferred(Entry earlier, Entry later) {
        int ua = earlier.name().length() - earlier.name().replaceFirst("^_+", "").length();
        int ub = later.name().length() - later.name().replaceFirst("^_+", "").length();
        if (ua != ub) {
            return ua < ub ? earlier : later;
        }
        return earlier.name().length() < later.name().length() ? earlier : later;
    }

    static void sameAsReadelf(Path file, List<String> names) throws Exception {
        List<Entry> entries = readelf(file);
        TreeMap<Long, Entry> byStart = new TreeMap<>();
        Map<String, Entry> byName = new LinkedHashMap<>();
        for (Entry e : entries) {
            if (e.function()) {
                byStart.merge(e.value(), e, ElfFileTest::preferred);
                byName.putIfAbsent(e.name(), e);
            }
        }
        try (ElfFile elf = ElfFile.open(file)) {
            assertEquals(byStart.size(), elf.symbolCount());
            for (Entry e : byStart.values()) {
                for (long vaddr : new long[] {e.value() - 1, e.value(), e.value() + e.size() / 2, e.value() + e.size() - 1,
                    e.value() + e.size()}) {
                    Optional<Entry> want = expectedAt(byStart, vaddr);
                    Optional<ElfFile.Symbol> got = elf.symbolAt(vaddr);
                    assertEquals(want.map(w -> new ElfFile.Symbol(w.name(), w.value(), w.size())), got,
                            () -> file + " at 0x" + Long.toHexString(vaddr));
                }
            }
            List<String> wanted = new ArrayList<>(names);
            int i = 0;
            for (String name : byName.keySet()) {
                if (i++ % 97 == 0) {
                    wanted.add(name);
                }
            }
            Map<String, ElfFile.Symbol> found = elf.symbols(wanted);
            for (String name : wanted) {
                Entry e = byName.get(name);
                assertEquals(e == null ? null : new ElfFile.Symbol(e.name(), e.value(), e.size()), found.get(name), name);
            }
            for (String name : names) {
                assertEquals(Optional.ofNullable(found.get(name)), elf.symbol(name), name);
            }
            // the address index (12 bytes a function, arrays cut to size) and the name indexes (4 bytes an entry, 1 a bucket)
            assertTrue(elf.heapBytes() <= 16L * byStart.size() + 5L * entries.size() + 256, elf.heapBytes() + " heap bytes");
        }
    }

    @Test
    void libjvmAsReadelfListsIt() throws Exception {
        sameAsReadelf(LIBJVM, List.of("SafeFetchN_impl", "_SafeFetchN_fault", "_SafeFetchN_continuation", "JVM_StartThread",
                "gHotSpotVMStructs", "no_such_function"));
        try (ElfFile elf = ElfFile.open(LIBJVM)) {
            assertTrue(elf.symbol("SafeFetchN_impl").isPresent(), "a local symbol, in .symtab only");
            assertTrue(elf.symbolCount() > 50_000, "libjvm has a full .symtab: " + elf.symbolCount());
            assertTrue(elf.heapBytes() < 1 << 20, "the address index of libjvm: " + elf.heapBytes() + " bytes");
        }
    }

    @Test
    void libcAsReadelfListsItWithItsIfuncs() throws Exception {
        Path libc = ProcMaps.self().libc().orElseThrow();
        sameAsReadelf(libc, List.of("malloc", "open64", "__open", "openat", "memcpy", "strlen", "creat"));
        List<Entry> entries = readelf(libc);
        Entry strlen = entries.stream().filter(e -> e.name().equals("strlen") && e.defined()).findFirst().orElseThrow();
        assertEquals("IFUNC", strlen.type(), "glibc picks strlen's implementation at load time");
        List<Entry> memcpy = entries.stream().filter(e -> e.name().equals("memcpy") && e.defined()).toList();
        assertEquals(2, memcpy.size(), "memcpy@GLIBC_2.2.5 and memcpy@@GLIBC_2.14");
        try (ElfFile elf = ElfFile.open(libc)) {
            assertEquals(new ElfFile.Symbol("strlen", strlen.value(), strlen.size()), elf.symbol("strlen").orElseThrow());
            assertEquals(strlen.value(), elf.symbolAt(strlen.value() + 1).orElseThrow().value());
            // a name of two versions: the first in .dynsym, as it always was (here the old one)
            assertEquals(memcpy.get(0).value(), elf.symbol("memcpy").orElseThrow().value());
            // aliases share an address: one of them names it
            long open = elf.symbol("open64").orElseThrow().value();
            assertEquals(open, elf.symbol("__open").orElseThrow().value());
            // and the public name, the shortest, names it (open, not __open, __open64 or open64)
            assertEquals("open", elf.symbolAt(open).orElseThrow().name());
            assertEquals("malloc", elf.symbolAt(elf.symbol("__libc_malloc").orElseThrow().value()).orElseThrow().name());
        }
    }

    @Test
    void dataSymbolsOfPostgres() throws Exception {
        assertTrue(Files.isReadable(POSTGRES), "PostgreSQL 15 is installed by scripts/setup.sh");
        Entry want = readelf(POSTGRES).stream().filter(e -> e.name().equals("debug_query_string") && e.type().equals("OBJECT"))
                .findFirst().orElseThrow();
        try (ElfFile elf = ElfFile.open(POSTGRES)) {
            assertEquals(Optional.of(new ElfFile.Symbol("debug_query_string", want.value(), 8)), elf.dataSymbol("debug_query_string"));
            assertEquals(Optional.empty(), elf.symbol("debug_query_string"), "a variable is not a function");
            assertEquals(Optional.empty(), elf.dataSymbol("exec_simple_query"), "a function is not a variable");
        }
    }


    /**
     * What the reader before answered ({@link ElfReference}), asked of every function at its
     * edges and middle, of every function name, and of data names (every 97th and the given
     * ones): the same, except at the first byte of a function that shares it with aliases,
     * where the old search named any of them and this one names the last (inside, both do).
     */
    static void sameAsTheOldReader(Path file, List<String> dataNames) throws Exception {
        ElfReference old = ElfReference.open(file);
        try (ElfFile elf = ElfFile.open(file)) {
            for (ElfFile.Symbol f : old.functions()) {
                for (long vaddr : new long[] {f.value() - 1, f.value(), f.value() + 1, f.value() + f.size() / 2, f.value() + f.size() - 1,
                    f.value() + f.size()}) {
                    Optional<ElfFile.Symbol> got = elf.symbolAt(vaddr);
                    assertTrue(old.allows(vaddr, got), () -> file + " at 0x" + Long.toHexString(vaddr) + ": " + got);
                }
            }
            List<String> names = old.functionNames();
            Map<String, ElfFile.Symbol> found = elf.symbols(names);
            for (String name : names) {
                assertEquals(old.symbol(name).orElseThrow(), found.get(name), name);
            }
            List<String> data = new ArrayList<>(dataNames);
            List<String> all = old.dataNames();
            for (int i = 0; i < all.size(); i += 97) {
                data.add(all.get(i));
            }
            for (String name : data) {
                assertEquals(old.dataSymbol(name), elf.dataSymbol(name), name);
            }
        }
    }

    @Test
    void libjvmLibcAndPostgresAsTheOldReaderAnswered() throws Exception {
        sameAsTheOldReader(LIBJVM, List.of("gHotSpotVMStructs", "gHotSpotVMStructEntryArrayStride", "no_such_variable"));
        sameAsTheOldReader(ProcMaps.self().libc().orElseThrow(), List.of("environ", "stdout"));
        sameAsTheOldReader(POSTGRES, List.of("debug_query_string", "MyProcPid"));
    }

    /** HotSpot's StubRoutines statics, as StubNames asks for them: every one the plain reader finds, as it finds it, and no more than asked. */
    @Test
    void dataSymbolsByPrefixAsTheOldReaderAnswered(@TempDir Path dir) throws Exception {
        String prefix = "_ZN12StubRoutines";
        ElfReference old = ElfReference.open(LIBJVM);
        java.util.Set<String> expected = new java.util.HashSet<>(old.dataNames().stream().filter(n -> n.startsWith(prefix)).toList());
        assertTrue(expected.size() > 100, "libjvm's StubRoutines statics: " + expected.size());
        try (ElfFile elf = ElfFile.open(LIBJVM)) {
            List<ElfFile.Symbol> got = elf.dataSymbolsStartingWith(prefix, 4096);
            assertEquals(expected, new java.util.HashSet<>(got.stream().map(ElfFile.Symbol::name).toList()));
            for (ElfFile.Symbol s : got) {
                assertEquals(old.dataSymbol(s.name()).orElseThrow(), s, s.name());
            }
            assertEquals(10, elf.dataSymbolsStartingWith(prefix, 10).size(), "at most max");
            assertEquals(List.of(), elf.dataSymbolsStartingWith("_ZN12StubRoutinesNoSuchThing", 4096));
        }
        long b = ElfImage.BASE;
        try (ElfFile elf = ElfFile.open(Files.write(dir.resolve("odd.so"), oddImage()))) {
            assertEquals(List.of(new ElfFile.Symbol("counter", b + 0x300, 8)), elf.dataSymbolsStartingWith("cou", 16), "data only, not malloc");
            assertEquals(List.of(), elf.dataSymbolsStartingWith("mall", 16), "functions are no data");
        }
    }

    @Test
    void theVdsoAsTheOldReaderAnswered(@TempDir Path dir) throws Exception {
        ProcMaps.Mapping vdso = ProcMaps.self().mappings().stream().filter(m -> m.path().equals("[vdso]")).findFirst().orElseThrow();
        byte[] image = java.lang.foreign.MemorySegment.ofAddress(vdso.start()).reinterpret(vdso.end() - vdso.start())
                .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        Path file = Files.write(dir.resolve("vdso.so"), image);
        assertTrue(ElfReference.open(file).symbol("__vdso_clock_gettime").isPresent(), "the vDSO's clock_gettime");
        sameAsTheOldReader(file, List.of());
    }

    @Test
    void theOddImageAsTheOldReaderAnswered(@TempDir Path dir) throws Exception {
        sameAsTheOldReader(Files.write(dir.resolve("odd.so"), oddImage()), List.of("counter", "malloc"));
    }

    static byte[] oddImage() {
        long b = ElfImage.BASE;
        return new ElfImage()
                .dynamic("malloc", b + 0x100, 0x40, ElfImage.STT_FUNC)
                .dynamic("memcpy", b + 0x200, 0x20, ElfImage.STT_GNU_IFUNC)
                .dynamic("counter", b + 0x300, 8, ElfImage.STT_OBJECT)
                .local("malloc@GLIBC_2.2.5", b + 0x180, 0x10, ElfImage.STT_FUNC)
                .local("@odd@name", b + 0x1c0, 0x10, ElfImage.STT_FUNC)
                .local("__libc_malloc", b + 0x100, 0x40, ElfImage.STT_FUNC)
                .local("sized_zero", b + 0x400, 0, ElfImage.STT_FUNC)
                .local("a_label", b + 0x410, 0, ElfImage.STT_NOTYPE)
                .local("at_zero", 0, 0x10, ElfImage.STT_FUNC)
                .undefined("free", b + 0x500, 0x10)
                .local("", b + 0x600, 0x10, ElfImage.STT_FUNC)
                .atNameOffset(1 << 20, b + 0x700, 0x10)
                .bytes();
    }

    @Test
    void oddSymbolsOfAMadeImage(@TempDir Path dir) throws Exception {
        long b = ElfImage.BASE;
        Path file = Files.write(dir.resolve("odd.so"), oddImage());
        try (ElfFile elf = ElfFile.open(file)) {
            assertEquals(new ElfFile.Symbol("malloc", b + 0x100, 0x40), elf.symbol("malloc").orElseThrow(), ".dynsym's first");
            assertEquals(new ElfFile.Symbol("malloc", b + 0x180, 0x10), elf.symbolAt(b + 0x184).orElseThrow(), "version cut");
            assertEquals("@odd@name", elf.symbolAt(b + 0x1c0).orElseThrow().name(), "a name that starts with @ is kept");
            assertEquals(Optional.empty(), elf.symbol("@odd"));
            assertEquals(new ElfFile.Symbol("malloc", b + 0x100, 0x40), elf.symbolAt(b + 0x120).orElseThrow(),
                    "of two at one address, the public name (.dynsym's malloc over .symtab's later __libc_malloc)");
            assertEquals("malloc", elf.symbolAt(b + 0x100).orElseThrow().name());
            assertEquals(Optional.empty(), elf.symbolAt(b + 0x150), "past malloc's 0x40 bytes");
            assertEquals(new ElfFile.Symbol("memcpy", b + 0x200, 0x20), elf.symbol("memcpy").orElseThrow(), "an IFUNC");
            assertEquals("memcpy", elf.symbolAt(b + 0x21f).orElseThrow().name());
            assertEquals(Optional.empty(), elf.symbolAt(b + 0x300), "data is not a function");
            assertEquals(Optional.of(new ElfFile.Symbol("counter", b + 0x300, 8)), elf.dataSymbol("counter"));
            assertEquals("sized_zero", elf.symbolAt(b + 0x4ff).orElseThrow().name(), "size 0 reaches the next symbol");
            assertEquals("sized_zero", elf.symbolAt(b + 0x700).orElseThrow().name(), "nameless and undefined symbols are not there");
            assertEquals(Optional.empty(), elf.symbol("free"), "undefined");
            assertEquals(Optional.empty(), elf.symbol("at_zero"), "value 0");
            assertEquals(Optional.empty(), elf.symbolAt(b), "nothing below the first");
            assertEquals(5, elf.symbolCount(), "the functions at 0x100 (two), 0x180, 0x1c0, 0x200, 0x400, and only those");
            assertEquals(b + 0x100 - b, elf.fileOffset(b + 0x100));
            assertEquals(b + 0x40, elf.vaddr(0x40));
        }
    }

    @Test
    void aClosedFileAnswersNoMore(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("one.so"), new ElfImage().dynamic("f", ElfImage.BASE + 0x10, 4, ElfImage.STT_FUNC).bytes());
        ElfFile elf = ElfFile.open(file);
        assertEquals("f", elf.symbolAt(ElfImage.BASE + 0x11).orElseThrow().name());
        elf.close();
        elf.close();
        assertThrows(IllegalStateException.class, () -> elf.symbolAt(ElfImage.BASE + 0x11));
        assertThrows(IllegalStateException.class, () -> elf.symbol("f"));
    }
}
