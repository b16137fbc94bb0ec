package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The USDT probes a binary carries: SystemTap's {@code .note.stapsdt} notes (what
 * {@code readelf -n} lists as "stapsdt"), each with its site, its semaphore and the location of
 * its arguments. Addresses are turned into file offsets, as uprobes take them.
 */
public final class UsdtNotes {
    /** One site of a probe: the file offsets of the instruction and of the semaphore (0: none), and the argument specs. */
    public record Site(String provider, String name, long offset, long semaphoreOffset, String arguments) {
        /** The argument specs, e.g. ["8@%rdi", "-4@-20(%rbp)"]. */
        public List<String> argumentList() {
            return arguments.isBlank() ? List.of() : List.of(arguments.strip().split("\\s+"));
        }
    }

    private static final int SHT_NOTE = 7;
    private static final int NT_STAPSDT = 3;
    static final long MAX_SECTION = 16L << 20;

    private record Section(String name, int type, long addr, long offset, long size) {
    }

    private UsdtNotes() {
    }

    public static List<Site> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ch, file.toString());
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new ElfFormatException(file + ": " + e.getMessage());
        }
    }

    private static List<Site> read(FileChannel ch, String what) throws IOException {
        long size = ch.size();
        ElfBytes.Header h = ElfBytes.Header.of(bytes(ch, 0, 64, size, what), what);
        int shentsize = h.shentsize();
        int shnum = h.shnum();
        int shstrndx = h.shstrndx();
        if (shstrndx >= shnum) {
            throw new ElfFormatException(what + ": no section names (shstrndx " + shstrndx + " of " + shnum + " sections)");
        }
        List<ElfBytes.Segment> segments = ElfBytes.Segment.of(bytes(ch, h.phoff(), (long) h.phnum() * h.phentsize(), size, what), h);
        ByteBuffer sh = bytes(ch, h.shoff(), (long) shnum * shentsize, size, what);
        int sb = shstrndx * shentsize;
        ByteBuffer names = bytes(ch, sh.getLong(sb + 24), sh.getLong(sb + 32), size, what);
        List<Section> sections = new ArrayList<>();
        for (int i = 0; i < shnum; i++) {
            int b = i * shentsize;
            sections.add(new Section(string(names, sh.getInt(b)), sh.getInt(b + 4), sh.getLong(b + 16), sh.getLong(b + 24),
                    sh.getLong(b + 32)));
        }
        Long base = null;
        for (Section s : sections) {
            if (s.name.equals(".stapsdt.base")) {
                base = s.addr;
            }
        }
        List<Site> sites = new ArrayList<>();
        for (Section s : sections) {
            if (s.type != SHT_NOTE || !s.name.equals(".note.stapsdt")) {
                continue;
            }
            ByteBuffer notes = bytes(ch, s.offset, s.size, size, what);
            int at = 0;
            while (at + 12 <= notes.limit()) {
                int nameSize = notes.getInt(at);
                int descSize = notes.getInt(at + 4);
                int type = notes.getInt(at + 8);
                int nameAt = at + 12;
                int descAt = nameAt + align4(nameSize);
                int next = descAt + align4(descSize);
                if (nameSize < 0 || descSize < 0 || next > notes.limit() || next <= at) {
                    throw new ElfFormatException(what + ": bad note at " + at + " of .note.stapsdt");
                }
                if (type == NT_STAPSDT && string(notes, nameAt).equals("stapsdt") && descSize >= 24) {
                    long pc = notes.getLong(descAt);
                    long noteBase = notes.getLong(descAt + 8);
                    long semaphore = notes.getLong(descAt + 16);
                    if (base != null) { // prelinked: the note's addresses move with .stapsdt.base
                        pc += base - noteBase;
                        if (semaphore != 0) {
                            semaphore += base - noteBase;
                        }
                    }
                    ByteBuffer desc = notes.slice(descAt, descSize).order(ByteOrder.LITTLE_ENDIAN);
                    String provider = string(desc, 24);
                    String name = string(desc, 24 + utf8Length(provider) + 1);
                    String args = string(desc, 24 + utf8Length(provider) + 1 + utf8Length(name) + 1);
                    sites.add(new Site(provider, name, fileOffset(segments, pc, what),
                            semaphore == 0 ? 0 : fileOffset(segments, semaphore, what), args));
                }
                at = next;
            }
        }
        return sites;
    }

    private static long fileOffset(List<ElfBytes.Segment> segments, long vaddr, String what) throws ElfFormatException {
        return ElfBytes.Segment.fileOffset(segments, vaddr).orElseThrow(
                () -> new ElfFormatException(what + ": USDT address 0x" + Long.toHexString(vaddr) + " is in no loadable segment"));
    }

    private static int align4(int n) {
        return (n + 3) & ~3;
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static ByteBuffer bytes(FileChannel ch, long offset, long length, long fileSize, String what) throws IOException {
        return ElfBytes.read(ch, offset, length, fileSize, MAX_SECTION, what);
    }

    private static String string(ByteBuffer b, int offset) {
        return ElfBytes.cString(b, offset);
    }
}
