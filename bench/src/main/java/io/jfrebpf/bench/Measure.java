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

    static void log(String format, Object... args) {
        System.out.printf(Locale.ROOT, "bench: " + format + "%n", args);
    }
}
