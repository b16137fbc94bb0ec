package io.jfrebpf.bench;

import java.nio.file.Path;

/**
 * The command line the host-level benchmarks share: the agent jar, the bench classes, the C
 * tool the benchmark drives, where the report goes, rounds, seconds per run and, optionally,
 * async-profiler's library for the peer configuration.
 */
record BenchArgs(Path agentJar, Path classes, Path tool, Path out, int rounds, double seconds, Path asyncProfiler) {
    /** Parses {@code agent.jar bench-classes tool out-dir [rounds] [seconds] [libasyncProfiler.so]}; exits with the usage when short. */
    static BenchArgs parse(String[] args, String usage) {
        if (args.length < 4) {
            System.err.println("usage: " + usage);
            System.exit(2);
        }
        return new BenchArgs(Path.of(args[0]).toAbsolutePath(), Path.of(args[1]).toAbsolutePath(), Path.of(args[2]).toAbsolutePath(),
                Path.of(args[3]).toAbsolutePath(), args.length > 4 ? Integer.parseInt(args[4]) : 3,
                args.length > 5 ? Double.parseDouble(args[5]) : 5, args.length > 6 ? Path.of(args[6]).toAbsolutePath() : null);
    }
}
