package io.jfrebpf.events.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The readers name events through {@link EventNames} only: a string literal in their main sources
 * that holds an event name (in {@code "ebpf.X"} or inside a message) would keep naming a type after
 * the catalog renames it. Comments may name events; string and text-block literals may not.
 */
class NameLiteralsTest {
    static final List<Path> READERS = Stream.of("converter", "jmc-plugin", "junit", "agent", "bench")
            .map(m -> Path.of("..", m, "src", "main", "java")).toList();
    static final Pattern EVENT_NAME = Pattern.compile(Pattern.quote(EventNames.PREFIX) + "[A-Z]");

    @Test
    void noReaderSpellsAnEventName() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path root : READERS) {
            assertTrue(Files.isDirectory(root), root.toAbsolutePath().normalize() + ": a reader's sources");
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(f -> {
                    try {
                        for (String literal : literals(Files.readString(f))) {
                            if (EVENT_NAME.matcher(literal).find()) {
                                found.add(root.relativize(f) + ": \"" + literal + "\"");
                            }
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
        assertEquals(List.of(), found, "event names spelt outside the catalog; use EventNames");
    }

    @Test
    void literalsAreFoundAndCommentsAreNot() {
        String source = """
                // "ebpf.InLineComment"
                /* "ebpf.InBlockComment" */
                /** {@code "ebpf.InJavadoc"} */
                String a = "no " + "ebpf.FileOpen", b = "esc\\"aped ebpf.OffCPU";
                char c = '"';
                String d = \"""
                    block ebpf.NativeLeak
                    \""";
                """;
        assertEquals(List.of("no ", "ebpf.FileOpen", "esc\\\"aped ebpf.OffCPU", "\n    block ebpf.NativeLeak\n    "),
                literals(source));
    }

    /** The contents of a Java source's string literals and text blocks, as written (escapes kept). */
    static List<String> literals(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char ch = s.charAt(i);
            if (s.startsWith("//", i)) {
                i = s.indexOf('\n', i);
                i = i < 0 ? n : i;
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (s.startsWith("\"\"\"", i)) {
                int start = i + 3;
                int j = start;
                while (j < n && !s.startsWith("\"\"\"", j)) {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                out.add(s.substring(start, Math.min(j, n)));
                i = j + 3;
            } else if (ch == '"' || ch == '\'') {
                int start = i + 1;
                int j = start;
                while (j < n && s.charAt(j) != ch && s.charAt(j) != '\n') {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                if (ch == '"') {
                    out.add(s.substring(start, Math.min(j, n)));
                }
                i = j + 1;
            } else {
                i++;
            }
        }
        return out;
    }
}
