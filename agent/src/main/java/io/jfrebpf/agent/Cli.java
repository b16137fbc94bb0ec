package io.jfrebpf.agent;

import io.jfrebpf.agent.Options.ProbeName;
import io.jfrebpf.agent.jfr.JvmTicks;
import io.jfrebpf.agent.os.Capabilities;
import io.jfrebpf.agent.os.KernelInfo;
import io.jfrebpf.agent.os.SyscallTable;
import io.jfrebpf.agent.probe.BackgroundWork;
import io.jfrebpf.agent.probe.Probe;
import io.jfrebpf.agent.probe.ProbeContext;
import io.jfrebpf.agent.probe.Probes;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;

/** {@code java -jar jfr-ebpf-agent.jar <command>}: the agent's command line. */
public final class Cli {
    private Cli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }

    static int run(String[] args, PrintStream out) {
        String command = args.length == 0 ? "help" : args[0];
        switch (command) {
            case "check":
                return check(out);
            case "attach":
                return args.length >= 2 && args.length <= 3 ? Attach.load(args[1], args.length == 3 ? args[2] : "", out)
                        : usageError("attach <pid> [key=value,...]");
            case "stop":
                return args.length == 2 ? Attach.load(args[1], Control.STOP_COMMAND, out) : usageError("stop <pid>");
            case "dump":
                if (args.length == 2) {
                    return Attach.load(args[1], Control.DUMP_COMMAND, out);
                }
                if (args.length == 3 && args[2].startsWith("file=") && args[2].length() > 5) {
                    return Attach.load(args[1], Control.DUMP_COMMAND + "=" + Path.of(args[2].substring(5)).toAbsolutePath(), out);
                }
                return usageError("dump <pid> [file=/path/to/dump.jfr]");
            case "help", "-h", "--help":
                usage(out);
                return 0;
            default:
                System.err.println("jfr-ebpf: unknown command '" + command + "'");
                usage(System.err);
                return 2;
        }
    }

    private static int usageError(String form) {
        System.err.println("jfr-ebpf: usage: java -jar jfr-ebpf-agent.jar " + form);
        return 2;
    }

    private static void usage(PrintStream out) {
        out.println("""
                usage: java -jar jfr-ebpf-agent.jar <command>
                  check    what this host and user can trace, probe by probe (loads and attaches each probe, then removes it)
                  attach <pid> [key=value,...]
                           load the agent into a running JVM (JDK 25) and start recording, with the options below
                  dump <pid> [file=...]
                           write that JVM's recording so far (default: next to its file, named by the time); it goes on
                  stop <pid>
                           write that JVM's recording and detach every probe; the JVM goes on
                  help     this text
                as an agent: java --enable-native-access=ALL-UNNAMED \\
                               -javaagent:jfr-ebpf-agent.jar[=key=value,...] -jar app.jar
                  options: file probes cpu.hz syscall.threshold offcpu.threshold malloc.interval jfr duration upload interval log""");
    }

    /** Loads and attaches every probe against this very process, then removes it. */
    static int check(PrintStream out) {
        Log.setLevel(Log.Level.ERROR);
        KernelInfo kernel = KernelInfo.read();
        Capabilities caps = Capabilities.self();
        out.println("jfr-ebpf check: what this host and user can trace");
        out.printf(Locale.ROOT, "  kernel     %s, BTF %s, perf_event_paranoid %s, unprivileged_bpf_disabled %s%n",
                kernel.release(), kernel.btf() ? "yes" : "NO (CO-RE programs cannot load)",
                kernel.perfEventParanoid(), kernel.unprivilegedBpfDisabled());
        out.printf(Locale.ROOT, "  user       uid %s, CAP_BPF %s, CAP_PERFMON %s, CAP_SYS_ADMIN %s%n",
                uid(), yes(caps.has(Capabilities.CAP_BPF)), yes(caps.has(Capabilities.CAP_PERFMON)),
                yes(caps.has(Capabilities.CAP_SYS_ADMIN)));

        int failures = 0;
        Path dir = null;
        Recording recording = null;
        try {
            dir = Files.createTempDirectory("jfr-ebpf-check");
            try (BackgroundWork background = BackgroundWork.start()) {
                recording = Recording.open(dir.resolve("check.jfr"), JvmTicks.MONOTONIC, null, background, null);
                try {
                    recording.startProbes(false);
                    out.printf(Locale.ROOT, "%n  %-9s %-6s %s%n", "probe", "status", "detail");
                    for (ProbeName name : EnumSet.allOf(ProbeName.class)) {
                        Optional<Probe> probe = Probes.create(name);
                        if (probe.isEmpty()) {
                            out.printf(Locale.ROOT, "  %-9s %-6s %s%n", name.key(), "-", "not available in this version");
                            continue;
                        }
                        // each probe alone, as it attaches by default (file: uprobes unless syscall is on)
                        ProbeContext context = recording.probeContext(Options.parse("probes=" + name.key()));
                        try (Probe p = probe.get()) {
                            p.start(context);
                            out.printf(Locale.ROOT, "  %-9s %-6s %s%s%n", name.key(), "ok", p.attachedAs(), costNote(name));
                        } catch (Throwable t) {
                            failures++;
                            out.printf(Locale.ROOT, "  %-9s %-6s %s%n", name.key(), "FAIL", Failures.explain(t));
                        }
                    }
                } finally {
                    recording.closeProbeSupport();
                }
            }
            recording.writer().close();
        } catch (Throwable t) {
            failures++;
            out.println("  cannot run the check: " + Failures.explain(t));
        } finally {
            deleteQuietly(dir);
        }
        SyscallTable table = recording == null ? null : recording.syscallTable();
        if (table != null) {
            out.printf(Locale.ROOT, "%n  syscall names: %d from %s%n", table.size(), table.source());
        }
        out.println(failures == 0 ? "\nall available probes can trace on this host"
                : "\n" + failures + " probe(s) cannot trace on this host (see above)");
        return failures == 0 ? 0 : 1;
    }

    private static String costNote(ProbeName name) {
        return name == ProbeName.SYSCALL
                ? " — opt-in: while attached every process on the host pays more per syscall (docs/performance.md)"
                : "";
    }

    private static String yes(boolean b) {
        return b ? "yes" : "no";
    }

    private static String uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.substring(4).strip().split("\\s+")[1];
                }
            }
        } catch (Exception ignored) {
            // unknown
        }
        return "?";
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        WorkDir.delete(dir);
    }
}
