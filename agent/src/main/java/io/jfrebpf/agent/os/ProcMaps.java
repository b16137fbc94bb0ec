package io.jfrebpf.agent.os;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The memory mappings of a process, from {@code /proc/<pid>/maps}. */
public final class ProcMaps {
    public record Mapping(long start, long end, String perms, long offset, String dev, long inode, String path) {
    }

    private final List<Mapping> mappings;
    /** Found at the first ask (benign races: the same answer each time); null before. */
    private volatile Optional<Path> libc;
    private volatile Optional<Path> libjvm;

    private ProcMaps(List<Mapping> mappings) {
        this.mappings = List.copyOf(mappings);
    }

    public static ProcMaps self() {
        return read(Path.of("/proc/self/maps"));
    }

    /**
     * This process's mappings as read once, by the first caller, and kept: for the objects the JVM
     * maps before any agent code runs and never unmaps (libjvm, libc), which is all the start path
     * looks up, so that each start-time consumer does not re-read and re-parse ~1,000 lines. Who
     * needs mappings made later (a pc outside every known mapping) reads {@link #self()} instead.
     */
    public static ProcMaps selfAtStart() {
        return AtStart.MAPS;
    }

    private static final class AtStart {
        static final ProcMaps MAPS = self();
    }

    public static ProcMaps of(long pid) {
        return read(Path.of("/proc/" + pid + "/maps"));
    }

    private static ProcMaps read(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * Parses the text; lines that are not mappings are skipped. Read several times at start and
     * whenever a pc is outside every known mapping: the fields are cut by hand, not by a regular
     * expression per line, whose matching a JVM's ~1,000 lines would otherwise make hot enough to
     * compile.
     */
    public static ProcMaps parse(String text) {
        List<Mapping> list = new ArrayList<>();
        String[] f = new String[5];
        int at = 0;
        int length = text.length();
        while (at < length) {
            int eol = text.indexOf('\n', at);
            if (eol < 0) {
                eol = length;
            }
            int pos = at;
            at = eol + 1;
            int fields = 0;
            while (fields < 5) {
                while (pos < eol && Character.isWhitespace(text.charAt(pos))) {
                    pos++;
                }
                int begin = pos;
                while (pos < eol && !Character.isWhitespace(text.charAt(pos))) {
                    pos++;
                }
                if (begin == pos) {
                    break;
                }
                f[fields++] = text.substring(begin, pos);
            }
            if (fields < 5) {
                continue;
            }
            try {
                int dash = f[0].indexOf('-');
                long start = Long.parseUnsignedLong(f[0], 0, dash, 16);
                long end = Long.parseUnsignedLong(f[0], dash + 1, f[0].length(), 16);
                long offset = Long.parseUnsignedLong(f[2], 16);
                long inode = Long.parseLong(f[4]);
                String path = text.substring(pos, eol).strip();
                list.add(new Mapping(start, end, f[1], offset, f[3], inode, path));
            } catch (RuntimeException ignored) {
                // not a mapping line
            }
        }
        return new ProcMaps(list);
    }

    public List<Mapping> mappings() {
        return mappings;
    }

    /** The libc this process maps. */
    public Optional<Path> libc() {
        if (libc == null) {
            libc = file(true);
        }
        return libc;
    }

    public Optional<Path> libjvm() {
        if (libjvm == null) {
            libjvm = file(false);
        }
        return libjvm;
    }

    /**
     * The first mapped file that is libc ({@code libc}) or libjvm, by the last part of its path
     * as text: a start-up asks a dozen times over ~1,000 mappings, and a Path per mapping made
     * UnixPath's parsing hot enough to be compiled by C2; tests, not a lambda or a regular
     * expression, for the same reason.
     */
    private Optional<Path> file(boolean libc) {
        for (Mapping m : mappings) {
            String path = m.path();
            if (!path.startsWith("/") || path.endsWith(" (deleted)")) {
                continue;
            }
            String name = path.substring(path.lastIndexOf('/') + 1);
            if (libc ? isLibc(name) : name.equals("libjvm.so")) {
                return Optional.of(Path.of(path));
            }
        }
        return Optional.empty();
    }

    /** libc.so.6, libc.so, or an old glibc's libc-2.31.so (digits and dots between "libc-" and ".so"). */
    static boolean isLibc(String name) {
        if (name.equals("libc.so.6") || name.equals("libc.so")) {
            return true;
        }
        if (!name.startsWith("libc-") || !name.endsWith(".so") || name.length() == "libc-.so".length()) {
            return false;
        }
        for (int i = "libc-".length(); i < name.length() - ".so".length(); i++) {
            char c = name.charAt(i);
            if (c != '.' && (c < '0' || c > '9')) {
                return false;
            }
        }
        return true;
    }
}
