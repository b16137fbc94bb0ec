package io.jfrebpf.convert;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import one.convert.Arguments;
import one.convert.FlameGraph;

/** Interactive HTML flame graphs through async-profiler's converter, written whole or not at all. */
final class FlameGraphs {
    private FlameGraphs() {
    }

    static FlameGraph of(FoldedStacks stacks, String title) throws IOException {
        Arguments arguments = new Arguments();
        arguments.title = title;
        FlameGraph graph = new FlameGraph(arguments);
        graph.parseCollapsed(new StringReader(stacks.text()));
        return graph;
    }

    /** Writes the graph to a temporary file next to {@code out}, then renames it: no half-written HTML. */
    static void write(FlameGraph graph, Path out) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + out.getFileName(), ".tmp");
        try {
            try (OutputStream os = Files.newOutputStream(tmp)) {
                graph.dump(os);
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static String title(StackReader.Stacks s, Path file) {
        return s.type() + " (" + s.weight().unit() + ") — " + file.getFileName();
    }
}
