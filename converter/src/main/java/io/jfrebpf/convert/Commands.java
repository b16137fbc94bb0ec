package io.jfrebpf.convert;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import one.convert.FlameGraph;

/** flame, collapsed, diff and summary: argument handling and output files. */
final class Commands {
    private Commands() {
    }

    /** Takes "--event TYPE" out of the arguments; null when absent. */
    static String eventOption(List<String> args) {
        return takeOption(args, "--event", "an event type, e.g. --event " + EventNames.OFF_CPU);
    }

    /**
     * Takes the first "NAME VALUE" out of the arguments and returns VALUE; null when NAME is
     * absent, a usage error saying what NAME needs when VALUE is.
     */
    static String takeOption(List<String> args, String name, String needs) {
        int i = args.indexOf(name);
        if (i < 0) {
            return null;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(name + " needs " + needs);
        }
        String value = args.remove(i + 1);
        args.remove(i);
        return value;
    }

    static void arity(List<String> args, int n, String command) {
        if (args.size() != n) {
            throw new IllegalArgumentException(command + " takes " + n + " file arguments, got " + args.size() + ": " + args);
        }
    }

    static int flame(List<String> args, PrintStream out, PrintStream err) throws IOException {
        String type = eventOption(args);
        arity(args, 2, "flame");
        Path in = Main.input(args.get(0));
        StackReader.Stacks s = StackReader.read(in, type, err);
        FlameGraphs.write(FlameGraphs.of(s.folded(), FlameGraphs.title(s, in)), Path.of(args.get(1)));
        out.printf(Locale.ROOT, "flame graph of %,d %s events (%,d %s) written to %s%n", s.folded().events(), s.type(),
                s.folded().total(), s.weight().unit(), Path.of(args.get(1)).toAbsolutePath());
        return Main.OK;
    }

    static int collapsed(List<String> args, PrintStream out, PrintStream err) throws IOException {
        String type = eventOption(args);
        arity(args, 2, "collapsed");
        Path in = Main.input(args.get(0));
        StackReader.Stacks s = StackReader.read(in, type, err);
        Path target = Path.of(args.get(1));
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, s.folded().text());
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        out.printf(Locale.ROOT, "%,d distinct stacks of %,d %s events (%,d %s) written to %s%n", s.folded().weights().size(),
                s.folded().events(), s.type(), s.folded().total(), s.weight().unit(), target.toAbsolutePath());
        return Main.OK;
    }

    /**
     * A differential flame graph: the new recording's stacks, each frame coloured by how its
     * share changed against the base (red: more, blue: less); the base is scaled to the new
     * total first, so recordings of different lengths compare.
     */
    static int diff(List<String> args, PrintStream out, PrintStream err) throws IOException {
        String type = eventOption(args);
        arity(args, 3, "diff");
        Path base = Main.input(args.get(0));
        Path next = Main.input(args.get(1));
        StackReader.Stacks b = StackReader.read(base, type, err);
        StackReader.Stacks n = StackReader.read(next, type != null ? type : b.type(), err);
        // the base scaled to the new total: each frame's colour is the change of its share, not of its count
        FlameGraph baseGraph = FlameGraphs.of(b.folded().scaledTo(n.folded().total()), "base");
        FlameGraph newGraph = FlameGraphs.of(n.folded(), n.type() + " (" + n.weight().unit() + "): " + next.getFileName()
                + " against " + base.getFileName() + " (red: a larger share, blue: smaller)");
        newGraph.diff(baseGraph);
        FlameGraphs.write(newGraph, Path.of(args.get(2)));
        out.printf(Locale.ROOT, "differential flame graph of %s: %,d events against %,d, written to %s%n", n.type(),
                n.folded().events(), b.folded().events(), Path.of(args.get(2)).toAbsolutePath());
        return Main.OK;
    }

    static int summary(List<String> args, PrintStream out, PrintStream err) throws IOException {
        CallSites sites = appPackages(args);
        arity(args, 1, "summary");
        Path in = Main.input(args.get(0));
        Summary.print(in, RecordingFacts.read(in, sites, err), out);
        return Main.OK;
    }

    static final String APP_PACKAGES = "--app-packages";

    /**
     * Takes "--app-packages com.example.shop,com.example.common" out of the arguments: the code an
     * event names is then the innermost frame in those packages (the reader library's call sites);
     * without it, the innermost frame outside well-known libraries.
     */
    static CallSites appPackages(List<String> args) {
        String packages = takeOption(args, APP_PACKAGES, "the application's packages, e.g. " + APP_PACKAGES + " com.example.shop");
        try {
            return CallSites.forPackages(packages);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(APP_PACKAGES + ": " + e.getMessage());
        }
    }
}
