package io.jfrebpf.bench;

import static io.jfrebpf.bench.Measure.log;
import static io.jfrebpf.bench.Measure.median;
import static io.jfrebpf.bench.Measure.parse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The malloc benchmark, every configuration in the same run, interleaved round by round: ns per
 * malloc(64)+free pair of {@link MallocWorkload} with no agent, {@code probes=malloc} at the
 * default interval (512 KiB) and at 0 (every call), and async-profiler's nativemem mode at the
 * same interval. Usage: {@code MallocBench agent.jar bench-classes out-dir [rounds] [seconds] [libasyncProfiler.so]}.
 */
public final class MallocBench {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: MallocBench agent.jar bench-classes out-dir [rounds] [seconds] [libasyncProfiler.so]");
            System.exit(2);
        }
        Path agentJar = Path.of(args[0]).toAbsolutePath();
        Path classes = Path.of(args[1]).toAbsolutePath();
        Path out = Path.of(args[2]).toAbsolutePath();
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        double seconds = args.length > 4 ? Double.parseDouble(args[4]) : 5;
        Path asyncProfiler = args.length > 5 ? Path.of(args[5]).toAbsolutePath() : null;
        Files.createDirectories(out);
        Path recording = out.resolve("malloc.jfr");

        Map<String, List<String>> configs = new LinkedHashMap<>();
        configs.put("no agent", List.of());
        configs.put("probes=malloc (interval 512k)", List.of("-javaagent:" + agentJar + "=file=" + recording + ",probes=malloc"));
        configs.put("probes=malloc (interval 512k), uprobe + uretprobe as on kernels before 6.13",
                List.of("-Djfrebpf.malloc.sessions=false", "-javaagent:" + agentJar + "=file=" + recording + ",probes=malloc"));
        configs.put("probes=malloc, malloc.interval=0 (every call)",
                List.of("-javaagent:" + agentJar + "=file=" + recording + ",probes=malloc,malloc.interval=0"));
        if (asyncProfiler != null) {
            configs.put("async-profiler 4.2 nativemem=512k (does not see these calls, see docs/native-memory.md)",
                    List.of("-agentpath:" + asyncProfiler + "=start,nativemem=524288,jfr,file=" + recording));
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Map<String, List<Double>> ns = new LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
            for (Map.Entry<String, List<String>> c : configs.entrySet()) {
                log("round %d/%d: %s", round, rounds, c.getKey());
                List<String> cmd = new ArrayList<>(List.of(java.toString(), "-XX:+PreserveFramePointer",
                        "--enable-native-access=ALL-UNNAMED"));
                cmd.addAll(c.getValue());
                cmd.addAll(List.of("-cp", classes.toString(), MallocWorkload.class.getName(), String.valueOf(seconds)));
                String output = Measure.run(cmd, out);
                ns.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(parse(output, "ns/pair=([\\d.]+)"));
                Files.deleteIfExists(recording);
            }
        }
        StringBuilder report = new StringBuilder();
        report.append(String.format(Locale.ROOT, "## malloc(64) + free through FFM, 1 thread, %.0f s, median of %d%n%n", seconds, rounds));
        report.append("| configuration | ns per malloc+free | vs no agent |\n|---|---|---|\n");
        double base = median(ns.get("no agent"));
        for (String k : configs.keySet()) {
            double v = median(ns.get(k));
            report.append(String.format(Locale.ROOT, "| %s | %,.1f | %.1fx |%n", k, v, v / base));
        }
        report.append("\nall samples: ").append(ns).append('\n');
        Files.writeString(out.resolve("malloc.md"), report);
        System.out.println();
        System.out.println(report);
        System.out.println("written to " + out.resolve("malloc.md"));
    }
}
