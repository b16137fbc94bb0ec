package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one owner, in this process, of the symbols of a mapped file: libjvm's are asked for by
 * SafeFetch, StubNames, the off-CPU probe and the naming of native frames, libc's by the malloc
 * and file probes and the frames. Each asks {@link #open} and closes what it gets when done, as
 * with {@link ElfFile#open}; they share one {@link ElfFile}, so its tables are mapped, and its
 * name and address indexes built, once. A file is known by its path and identity (device,
 * inode, size, modification time): a file replaced on disk is opened anew. The most recently
 * asked-for {@link #MAX_FILES} stay open between their users.
 */
public final class ElfFiles {
    static final int MAX_FILES = 16;

    private record Shared(Object fileKey, long size, FileTime modified, ElfFile elf) {
        boolean same(BasicFileAttributes a) {
            return fileKey != null && fileKey.equals(a.fileKey()) && size == a.size() && modified.equals(a.lastModifiedTime());
        }
    }

    private static final Map<Path, Shared> FILES = new LinkedHashMap<>(16, 0.75f, true);

    private ElfFiles() {
    }

    /** The file's symbols, shared with every other user of the same file: close it once, when done. */
    public static ElfFile open(Path path) throws IOException {
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
        synchronized (FILES) {
            Shared s = FILES.get(path);
            if (s != null && s.same(a)) {
                return s.elf().retain();
            }
            if (s != null) {
                FILES.remove(path);
                s.elf().close();
            }
            ElfFile elf = ElfFile.open(path);
            if (a.fileKey() == null) {
                return elf; // no identity to know it again by: not shared
            }
            FILES.put(path, new Shared(a.fileKey(), a.size(), a.lastModifiedTime(), elf));
            if (FILES.size() > MAX_FILES) {
                Map.Entry<Path, Shared> eldest = FILES.entrySet().iterator().next();
                FILES.remove(eldest.getKey());
                eldest.getValue().elf().close();
            }
            return elf.retain();
        }
    }

    /** How many files are kept open between their users. */
    static int kept() {
        synchronized (FILES) {
            return FILES.size();
        }
    }
}
