package io.jfrebpf.convert;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import one.convert.Arguments;
import one.convert.FlameGraph;

/**
 * Interactive HTML flame graphs through async-profiler's converter, written whole or not at all.
 * Drawn from the top (an icicle graph: the root first, callees below, as Pyroscope and Grafana
 * draw them): a recording's deepest stack makes the page as tall as 2,000 px and more, and a graph
 * drawn from the bottom opened on white space and the tips of a few towers, its root and widest
 * frames below the fold. The page's "Invert" button (key I) draws it from the bottom.
 */
final class FlameGraphs {
    private FlameGraphs() {
    }

    static FlameGraph of(FoldedStacks stacks, String title) throws IOException {
        Arguments arguments = new Arguments();
        arguments.title = title;
        arguments.inverted = true;
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
