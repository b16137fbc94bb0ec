package io.jfrebpf.convert;

import io.jfrebpf.events.read.EventNames;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code java -jar jfr-ebpf-convert.jar <command> ...}: flame graphs, folded stacks,
 * differential flame graphs, summary tables, a CI gate and JMC's rules report over .jfr recordings (of the agent,
 * or plain JVM recordings). Exit status: 0 done, 1 the gate found a regression, 2 bad usage or
 * an unreadable input (one line saying which).
 */
public final class Main {
    static final int OK = 0;
    static final int REGRESSION = 1;
    static final int USAGE = 2;

    static final String USAGE_TEXT = """
            usage: java -jar jfr-ebpf-convert.jar <command> ...
              flame [--event TYPE] in.jfr out.html      interactive flame graph (default %1$s, else jdk.ExecutionSample)
              collapsed [--event TYPE] in.jfr out.txt   folded stacks, one 'frame;frame;frame weight' line per stack
              diff [--event TYPE] base.jfr new.jfr out.html   differential flame graph of new against base
              summary [--app-packages P,Q] in.jfr       tables: syscalls, file opens, connections, queries, leaks, CPU, probes
              gate base.jfr new.jfr [limit=value ...]   compare figures; exit 1 when one is over its limit
              report [--set SETTING=VALUE ...] [--app-packages P,Q] [--fail-on warning|info [--fail-rules R,S*]] in.jfr out.html
                                                        JMC's automated analysis (JDK rules and jfr-ebpf's) as JMC's HTML
                                                        report; --fail-on: exit 1 on such findings (CI), of the rules
                                                        --fail-rules names (ids, or prefixes ending in *) when given
              report --list-settings                    the rules' settings (thresholds), with their defaults
            --app-packages: the application's packages (com.example.shop,com.example.common): the code an event
            names is the innermost frame in them; by default the innermost frame outside well-known libraries
            (JDK, connection pools, JDBC drivers, Spring, Tomcat, Netty, Jackson, Hibernate...).
            weights: samples for CPU samplers, bytes for %2$s/%3$s, the duration for
            events that have one (%4$s, %5$s, %6$s...), else one per event.
            gate limits (defaults): %7$s""";

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            (args.length == 0 ? err : out).println(usage());
            return args.length == 0 ? USAGE : OK;
        }
        List<String> rest = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        try {
            return switch (args[0]) {
                case "flame" -> Commands.flame(rest, out, err);
                case "collapsed" -> Commands.collapsed(rest, out, err);
                case "diff" -> Commands.diff(rest, out, err);
                case "summary" -> Commands.summary(rest, out, err);
                case "gate" -> Gate.run(rest, out, err);
                case "report" -> Report.run(rest, out, err);
                default -> throw new IllegalArgumentException("unknown command '" + args[0] + "'");
            };
        } catch (IllegalArgumentException e) {
            err.println("convert: " + e.getMessage());
            err.println(usage());
            return USAGE;
        } catch (StackReader.NoSuchEventException e) {
            err.println("convert: " + e.getMessage());
            return USAGE;
        } catch (NoSuchFileException e) {
            err.println("convert: no such file: " + e.getFile());
            return USAGE;
        } catch (IOException | RuntimeException e) {
            err.println("convert: " + e.getMessage() + " (" + e.getClass().getSimpleName() + ")");
            return USAGE;
        }
    }

    static String usage() {
        return USAGE_TEXT.formatted(EventNames.CPU_SAMPLE, EventNames.NATIVE_LEAK, EventNames.NATIVE_ALLOCATION, EventNames.OFF_CPU,
                EventNames.SYSCALL_LATENCY, EventNames.POSTGRES_QUERY, Limits.defaults().describe());
    }

    /** An input recording: it must exist and be readable (a clear line otherwise). */
    static Path input(String name) throws IOException {
        Path p = Path.of(name);
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(name);
        }
        return p;
    }
}
