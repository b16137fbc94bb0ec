package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The data symbols (variables) of an ELF64 shared object whose names start with a prefix, from
 * its {@code .symtab}, and where the object's link-time addresses are at run time. A scan that
 * keeps only the matches (no table of every symbol is built), bounded like {@link ElfFile}:
 * garbage gives an {@link ElfFormatException}.
 */
public final class ElfDataSymbols {
    /** A variable: its mangled name, link-time address and size. */
    public record Symbol(String name, long vaddr, long size) {
    }

    private static final int SHT_SYMTAB = 2;
    private static final int STT_OBJECT = 1;
    private static final long MAX_TABLE = ElfFile.MAX_TABLE;

    private final List<Symbol> symbols;
    private final long firstLoadVaddr;
    private final long firstLoadOffset;

    private ElfDataSymbols(List<Symbol> symbols, long firstLoadVaddr, long firstLoadOffset) {
        this.symbols = symbols;
        this.firstLoadVaddr = firstLoadVaddr;
        this.firstLoadOffset = firstLoadOffset;
    }

    /** The defined data symbols of {@code path} whose names start with {@code prefix}, at most {@code max} of them. */
    public static ElfDataSymbols read(Path path, String prefix, int max) throws IOException {
        byte[] want = prefix.getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            String what = path.toString();
            ElfBytes.Header h = ElfBytes.Header.of(ElfBytes.read(ch, 0, 64, fileSize, 64, what), what);
            List<ElfBytes.Segment> segments = ElfBytes.Segment.of(
                    ElfBytes.read(ch, h.phoff(), (long) h.phnum() * h.phentsize(), fileSize, MAX_TABLE, what), h);
            if (segments.isEmpty()) {
                throw new ElfFormatException(what + ": no loadable segment");
            }
            ByteBuffer sh = ElfBytes.read(ch, h.shoff(), (long) h.shnum() * h.shentsize(), fileSize, MAX_TABLE, what);
            List<Symbol> found = new ArrayList<>();
            for (int i = 0; i < h.shnum() && found.size() < max; i++) {
                int b = i * h.shentsize();
                if (sh.getInt(b + 4) != SHT_SYMTAB) {
                    continue;
                }
                long entsize = sh.getLong(b + 56);
                int link = sh.getInt(b + 40);
                if (entsize < 24 || link < 0 || link >= h.shnum()) {
                    throw new ElfFormatException(what + ": bad symbol table " + i);
                }
                int lb = link * h.shentsize();
                ByteBuffer strings = ElfBytes.read(ch, sh.getLong(lb + 24), sh.getLong(lb + 32), fileSize, MAX_TABLE, what);
                ByteBuffer table = ElfBytes.read(ch, sh.getLong(b + 24), sh.getLong(b + 32), fileSize, MAX_TABLE, what);
                long count = table.limit() / entsize;
                for (long s = 0; s < count && found.size() < max; s++) {
                    int e = (int) (s * entsize);
                    if ((table.get(e + 4) & 0xf) != STT_OBJECT || table.getShort(e + 6) == 0) {
                        continue;
                    }
                    int name = table.getInt(e);
                    if (startsWith(strings, name, want)) {
                        found.add(new Symbol(ElfBytes.cString(strings, name), table.getLong(e + 8), table.getLong(e + 16)));
                    }
                }
            }
            ElfBytes.Segment first = segments.get(0);
            return new ElfDataSymbols(List.copyOf(found), first.vaddr(), first.offset());
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new ElfFormatException(path + ": " + e.getMessage());
        }
    }

    private static boolean startsWith(ByteBuffer strings, int offset, byte[] prefix) {
        if (offset < 0 || offset > strings.limit() - prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (strings.get(offset + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    public List<Symbol> symbols() {
        return symbols;
    }

    /**
     * The run-time address of a link-time address in a process that mapped the object's first
     * loadable segment at {@code mappingStart} from file offset {@code mappingOffset} (a line of
     * /proc/pid/maps): the whole object moves by one load bias, zero-filled data (.bss) too.
     */
    public long runtimeAddress(long vaddr, long mappingStart, long mappingOffset) {
        return vaddr - firstLoadVaddr + (mappingStart - (mappingOffset - firstLoadOffset));
    }

    /** The file offset of the first loadable segment: the mapping to give {@link #runtimeAddress}. */
    public long firstLoadOffset() {
        return firstLoadOffset;
    }
}
