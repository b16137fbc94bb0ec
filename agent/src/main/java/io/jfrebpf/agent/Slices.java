package io.jfrebpf.agent;

import io.jfrebpf.agent.jfr.JfrFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The files of a recording cut into slices ({@code interval=}): each slice is a whole recording
 * named by the time it began ({@code %t} of the {@code file} option, added before {@code .jfr}
 * when the name has none), and the slices in the directory are bounded in number
 * ({@code maxfiles}) and total size ({@code maxsize}): the oldest go first, the newest always stays.
 * Slices of earlier runs of the same name pattern (another pid) count too: the bound is the
 * directory's, across restarts.
 */
final class Slices {
    private final String template;
    private final long pid;
    private final Pattern ours;
    private final Path directory;
    private final int maxFiles;
    private final long maxSize;

    Slices(String fileOption, long pid, int maxFiles, long maxSize) {
        String t = fileOption.contains("%t") ? fileOption
                : fileOption.endsWith(".jfr") ? fileOption.substring(0, fileOption.length() - 4) + "-%t.jfr" : fileOption + "-%t";
        this.template = t;
        this.pid = pid;
        Path sample = Path.of(JfrFiles.expandFileName(t, pid, Instant.EPOCH)).toAbsolutePath();
        this.directory = sample.getParent();
        String name = Path.of(t).getFileName().toString();
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '%' && i + 1 < name.length() && (name.charAt(i + 1) == 'p' || name.charAt(i + 1) == 't')) {
                regex.append(name.charAt(i + 1) == 'p' ? "\\d+" : "\\d{8}-\\d{6}(-\\d+)?");
                i++;
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        this.ours = Pattern.compile(regex.toString());
        this.maxFiles = maxFiles;
        this.maxSize = maxSize;
    }

    Path directory() {
        return directory;
    }

    /** The file of a slice that began at {@code start}: its name, made unique if a slice of the same second exists. */
    Path next(Instant start) {
        Path p = Path.of(JfrFiles.expandFileName(template, pid, start)).toAbsolutePath();
        if (!Files.exists(p)) {
            return p;
        }
        String name = p.getFileName().toString();
        String base = name.endsWith(".jfr") ? name.substring(0, name.length() - 4) : name;
        String ext = name.endsWith(".jfr") ? ".jfr" : "";
        for (int i = 1;; i++) {
            Path q = p.resolveSibling(base + "-" + i + ext);
            if (!Files.exists(q)) {
                return q;
            }
        }
    }

    /** Whether a file name is one of this pattern's slices. */
    boolean isSlice(Path file) {
        return ours.matcher(file.getFileName().toString()).matches();
    }

    /** Deletes the oldest slices beyond maxfiles or maxsize (0: no bound); returns what it deleted. */
    List<Path> enforce() throws IOException {
        if (maxFiles <= 0 && maxSize <= 0) {
            return List.of();
        }
        record Slice(Path path, long modified, long size) {
        }
        List<Slice> slices = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, this::isSlice)) {
            for (Path f : files) {
                try {
                    slices.add(new Slice(f, Files.getLastModifiedTime(f).toMillis(), Files.size(f)));
                } catch (IOException e) {
                    // removed meanwhile
                }
            }
        }
        slices.sort(Comparator.comparingLong(Slice::modified).thenComparing(s -> s.path().getFileName().toString()));
        long total = slices.stream().mapToLong(Slice::size).sum();
        List<Path> deleted = new ArrayList<>();
        int count = slices.size();
        for (int i = 0; i < slices.size() - 1; i++) { // the newest always stays
            boolean overCount = maxFiles > 0 && count > maxFiles;
            boolean overSize = maxSize > 0 && total > maxSize;
            if (!overCount && !overSize) {
                break;
            }
            Slice s = slices.get(i);
            if (Files.deleteIfExists(s.path())) {
                deleted.add(s.path());
            }
            count--;
            total -= s.size();
        }
        return deleted;
    }
}
