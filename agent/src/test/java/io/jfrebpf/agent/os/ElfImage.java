package io.jfrebpf.agent.os;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A small ELF64 shared object made byte by byte, for tests: one loadable segment (file offset 0
 * at {@link #BASE}), a {@code .dynsym} and a {@code .symtab} with the symbols given, each with its
 * string table. What a real library holds, with the odd cases a test asks for.
 */
public final class ElfImage {
    public static final long BASE = 0x400000;
    public static final int STT_NOTYPE = 0;
    public static final int STT_OBJECT = 1;
    public static final int STT_FUNC = 2;
    public static final int STT_GNU_IFUNC = 10;
    /** A section index that defines a symbol; 0 is undefined. */
    public static final int TEXT = 1;

    private record Sym(String name, long nameOffset, long value, long size, int type, int shndx) {
    }

    private final List<Sym> dynsym = new ArrayList<>();
    private final List<Sym> symtab = new ArrayList<>();

    public ElfImage dynamic(String name, long value, long size, int type) {
        dynsym.add(new Sym(name, -1, value, size, type, TEXT));
        return this;
    }

    public ElfImage local(String name, long value, long size, int type) {
        symtab.add(new Sym(name, -1, value, size, type, TEXT));
        return this;
    }

    public ElfImage undefined(String name, long value, long size) {
        symtab.add(new Sym(name, -1, value, size, STT_FUNC, 0));
        return this;
    }

    /** A symbol of .symtab whose name is at a given offset of its string table (e.g. outside it). */
    public ElfImage atNameOffset(long nameOffset, long value, long size) {
        symtab.add(new Sym(null, nameOffset, value, size, STT_FUNC, TEXT));
        return this;
    }

    public byte[] bytes() {
        byte[][] dyn = table(dynsym);
        byte[][] sym = table(symtab);
        int sections = 5; // null, .dynsym, .dynstr, .symtab, .strtab
        long offset = 64 + 56;
        long dynsymAt = align(offset);
        long dynstrAt = dynsymAt + dyn[0].length;
        long symtabAt = align(dynstrAt + dyn[1].length);
        long strtabAt = symtabAt + sym[0].length;
        long shoff = align(strtabAt + sym[1].length);
        long size = shoff + 64L * sections;
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        b.putShort(16, (short) 3).putShort(18, (short) 62).putInt(20, 1);
        b.putLong(32, 64).putLong(40, shoff).putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 1)
                .putShort(58, (short) 64).putShort(60, (short) sections).putShort(62, (short) 0);
        b.putInt(64, 1).putInt(68, 5).putLong(72, 0).putLong(80, BASE).putLong(88, BASE).putLong(96, size)
                .putLong(104, size).putLong(112, 0x1000);
        b.put((int) dynsymAt, dyn[0]).put((int) dynstrAt, dyn[1]).put((int) symtabAt, sym[0]).put((int) strtabAt, sym[1]);
        section(b, shoff, 1, 11, dynsymAt, dyn[0].length, 2, 24);
        section(b, shoff, 2, 3, dynstrAt, dyn[1].length, 0, 0);
        section(b, shoff, 3, 2, symtabAt, sym[0].length, 4, 24);
        section(b, shoff, 4, 3, strtabAt, sym[1].length, 0, 0);
        return b.array();
    }

    private static long align(long at) {
        return (at + 7) & ~7L;
    }

    private static void section(ByteBuffer b, long shoff, int index, int type, long offset, long size, int link, long entsize) {
        int at = (int) (shoff + 64L * index);
        b.putInt(at + 4, type).putLong(at + 24, offset).putLong(at + 32, size).putInt(at + 40, link).putLong(at + 56, entsize);
    }

    /** The symbol entries (the first one null, as ELF has it) and the string table. */
    private static byte[][] table(List<Sym> symbols) {
        ByteArrayOutputStream strings = new ByteArrayOutputStream();
        strings.write(0);
        ByteBuffer entries = ByteBuffer.allocate(24 * (symbols.size() + 1)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < symbols.size(); i++) {
            Sym s = symbols.get(i);
            long name = s.nameOffset();
            if (s.name() != null) {
                name = strings.size();
                strings.writeBytes(s.name().getBytes(StandardCharsets.UTF_8));
                strings.write(0);
            }
            int e = 24 * (i + 1);
            entries.putInt(e, (int) name).put(e + 4, (byte) (0x10 | s.type())).putShort(e + 6, (short) s.shndx())
                    .putLong(e + 8, s.value()).putLong(e + 16, s.size());
        }
        return new byte[][] {entries.array(), strings.toByteArray()};
    }
}
