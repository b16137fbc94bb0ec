package io.jfrebpf.bench;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What every benchmark here does with its runs: read a figure from a JVM's output, take medians, log. */
final class Measure {
    private Measure() {
    }

    /** The first group of {@code regex} in the output, as a number; an IOException naming the output if absent. */
    static double parse(String output, String regex) throws IOException {
        Matcher m = Pattern.compile(regex).matcher(output);
        if (!m.find()) {
            throw new IOException("no " + regex + " in: " + output);
        }
        return Double.parseDouble(m.group(1));
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Runs a JVM (or any command) to its end, at most 5 minutes; its output, or an IOException with it. */
    static String run(java.util.List<String> cmd, java.nio.file.Path dir) throws IOException, InterruptedException {
        java.nio.file.Path log = java.nio.file.Files.createTempFile(dir, "jvm", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(5, java.util.concurrent.TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("benchmark JVM failed: " + cmd + "\n" + java.nio.file.Files.readString(log));
            }
            return java.nio.file.Files.readString(log);
        } finally {
            java.nio.file.Files.deleteIfExists(log);
        }
    }

    /** The configuration "async-profiler's CPU sampling at 10 ms into JFR" among agent options. */
    static final String PEER = "\0async-profiler";

    /** JVM flags of a configuration: none (null), our agent with these options, or the peer. */
    static java.util.List<String> agentFlags(java.nio.file.Path agentJar, java.nio.file.Path asyncProfiler, String options,
            java.nio.file.Path recording) {
        if (options == null) {
            return java.util.List.of();
        }
        if (options.equals(PEER)) {
            return java.util.List.of("-agentpath:" + asyncProfiler + "=start,event=cpu,interval=10ms,jfr,file=" + recording);
        }
        return java.util.List.of("-javaagent:" + agentJar + "=file=" + recording + (options.isEmpty() ? "" : "," + options));
    }

    /**
     * Measures something in other processes while a JVM with these flags idles (FileReadLoop idle):
     * what its probes cost the rest of the host.
     */
    static <T> T whileIdleJvm(java.nio.file.Path javaBinary, java.util.List<String> flags, java.nio.file.Path classes,
            java.nio.file.Path out, java.util.concurrent.Callable<T> measure) throws Exception {
        java.nio.file.Path signal = out.resolve("signal");
        java.nio.file.Files.deleteIfExists(signal);
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(javaBinary.toString(), "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(flags);
        cmd.addAll(java.util.List.of("-cp", classes.toString(), FileReadLoop.class.getName(), "idle", signal.toString()));
        java.nio.file.Path log = java.nio.file.Files.createTempFile(out, "idle", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (!java.nio.file.Files.readString(log).contains("ready") && p.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (!java.nio.file.Files.readString(log).contains("ready")) {
                throw new IOException("idle JVM did not start: " + java.nio.file.Files.readString(log));
            }
            Thread.sleep(500);
            return measure.call();
        } finally {
            java.nio.file.Files.writeString(signal, "stop");
            p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
            p.destroyForcibly();
            java.nio.file.Files.deleteIfExists(log);
        }
    }

    static void log(String format, Object... args) {
        System.out.printf(Locale.ROOT, "bench: " + format + "%n", args);
    }
}
