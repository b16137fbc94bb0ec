package io.jfrebpf.convert.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmc.common.IMCStackTrace;
import org.openjdk.jmc.common.item.IItem;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.item.IItemIterable;
import org.openjdk.jmc.common.item.IMemberAccessor;
import org.openjdk.jmc.common.item.ItemFilters;
import org.openjdk.jmc.flightrecorder.JfrAttributes;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;

/**
 * Golden tests of the converter CLI (the shaded jar) on recordings the real agent makes here:
 * a workload that burns CPU in Burner.hot and Burner.cold, twice alike, and once with three
 * times the work in hot.
 */
class ConverterIT {
    static final String HOT = "io.jfrebpf.convert.it.Burner.hot";
    @TempDir
    static Path dir;
    static Path base;
    static Path again;
    static Path regressed;

    @BeforeAll
    static void record() throws Exception {
        assertEquals("0", uid(), "the golden tests record with the agent, which loads BPF programs: run as root");
        base = Jvm.burn(dir.resolve("base.jfr"), 1, 1, 2000);
        again = Jvm.burn(dir.resolve("again.jfr"), 1, 1, 2000);
        regressed = Jvm.burn(dir.resolve("regressed.jfr"), 3, 1, 2000);
    }

    static String uid() throws Exception {
        return Files.readString(Path.of("/proc/self/status")).lines().filter(l -> l.startsWith("Uid:")).findFirst()
                .orElse("Uid: ?").split("\\s+")[2];
    }

    @Test
    void theFlameGraphShowsTheHotMethodAndOpensInChromiumWithoutScriptErrors() throws Exception {
        Path html = dir.resolve("flame.html");
        Jvm.Result r = Jvm.convert("flame", base.toString(), html.toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("ebpf.CPUSample events"), r.out());
        FlamePage graph = FlamePage.of(Files.readString(html));
        assertTrue(graph.hasFrame(HOT + "_[j]") || graph.hasFrame(HOT), "the hot method in the graph: " + graph.names());
        assertTrue(graph.hasFrame("Burner.cold"), "and the cold one");
        Chromium.Page page = Chromium.open(html, dir.resolve("flame.png"));
        assertEquals(List.of(), page.scriptErrors(), page.log());
        // the root and the frames down to Burner.hot/cold span the width: at least 5 rows of 16 px
        assertTrue(page.coloredPixels() > 5 * 16 * 1200, "the screenshot shows frames: " + page.coloredPixels() + " pixels coloured");
    }

    @Test
    void collapsedWeightsAddUpToTheSampleCountJmcCounts() throws Exception {
        Path txt = dir.resolve("collapsed.txt");
        Jvm.Result r = Jvm.convert("collapsed", base.toString(), txt.toString());
        assertEquals(0, r.exit(), r.out());
        long sum = 0;
        long hot = 0;
        for (String line : Files.readAllLines(txt)) {
            int space = line.lastIndexOf(' ');
            long w = Long.parseLong(line.substring(space + 1));
            sum += w;
            if (line.contains(HOT)) {
                hot += w;
            }
        }
        assertEquals(samplesWithStacks(base), sum, "collapsed weights = CPU samples with stacks, as JMC's parser counts them");
        assertTrue(hot > sum / 4, "Burner.hot in " + hot + " of " + sum + " samples");
    }

    @Test
    void theGatePassesOnTheSameWorkloadAndFailsOnThreeTimesTheCpuInOneMethod() throws Exception {
        Jvm.Result same = Jvm.convert("gate", base.toString(), again.toString());
        assertEquals(0, same.exit(), same.out());
        assertTrue(same.out().contains("gate: PASSED"), same.out());

        Jvm.Result worse = Jvm.convert("gate", base.toString(), regressed.toString());
        assertEquals(1, worse.exit(), worse.out());
        assertTrue(worse.out().contains("gate: FAILED"), worse.out());
        Matcher m = Pattern.compile("(?m)^\\s*CPU share " + Pattern.quote(HOT) + "\\s+(\\S+)%\\s+(\\S+)%\\s+\\+(\\S+) pp.*REGRESSION$")
                .matcher(worse.out());
        assertTrue(m.find(), "the hot method's line says REGRESSION:\n" + worse.out());
        double before = Double.parseDouble(m.group(1));
        double after = Double.parseDouble(m.group(2));
        assertTrue(before > 35 && before < 65 && after > 62 && after < 88, "about 50% -> 75%: " + before + " -> " + after);

        Jvm.Result relaxed = Jvm.convert("gate", base.toString(), regressed.toString(), "cpu=40");
        assertEquals(0, relaxed.exit(), "a limit above the change passes:\n" + relaxed.out());
    }

    @Test
    void theDiffColoursTheHotMethodRedAndTheColdOneBlue() throws Exception {
        Path html = dir.resolve("diff.html");
        Jvm.Result r = Jvm.convert("diff", base.toString(), regressed.toString(), html.toString());
        assertEquals(0, r.exit(), r.out());
        FlamePage d = FlamePage.of(Files.readString(html));
        assertTrue(d.diffFor("Burner.hot") > 0, "hot grew: " + d.diffByFrame());
        assertTrue(d.diffFor("Burner.cold") < 0, "cold's share shrank: " + d.diffByFrame());
        Chromium.Page page = Chromium.open(html, dir.resolve("diff.png"));
        assertEquals(List.of(), page.scriptErrors(), page.log());
    }

    @Test
    void theSummaryNamesTheHotMethodAndTheProbes() throws Exception {
        Jvm.Result r = Jvm.convert("summary", base.toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("probes (nothing lost)"), r.out());
        assertTrue(Pattern.compile("(?m)^\\s+\\d+\\.\\d%\\s+[\\d,]+\\s+" + Pattern.quote(HOT) + "$").matcher(r.out()).find(), r.out());
    }

    @Test
    void aPlainJvmRecordingWorksToo() throws Exception {
        Path jfr = dir.resolve("plain.jfr");
        Jvm.Result rec = Jvm.run(List.of(Jvm.JAVA.toString(), "-XX:StartFlightRecording=filename=" + jfr + ",settings=profile",
                "-cp", Jvm.TEST_CLASSES.toString(), Burner.class.getName(), "1", "1", "600"));
        assertEquals(0, rec.exit(), rec.out());
        Path html = dir.resolve("plain.html");
        Jvm.Result r = Jvm.convert("flame", jfr.toString(), html.toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("jdk.ExecutionSample events"), r.out());
        assertTrue(FlamePage.of(Files.readString(html)).hasFrame("Burner.hot"));
    }

    /**
     * report: JMC's rules engine with the JDK rules and ours, into JMC's HTML report; a storm of
     * opens of one file is named on the terminal with the code that opens it, every rule of the
     * plugin is in the page, and the page opens in Chromium without script errors.
     */
    @Test
    void theReportRunsJmcsRulesAndOursAndNamesTheFileOpenStorm() throws Exception {
        Path jfr = dir.resolve("storm.jfr");
        Path config = dir.resolve("config.properties");
        Jvm.Result rec = Jvm.run(List.of(Jvm.JAVA.toString(), "-XX:+PreserveFramePointer", "--enable-native-access=ALL-UNNAMED",
                "-javaagent:" + Jvm.AGENT + "=file=" + jfr + ",probes=cpu+file,startup=wait", "-cp", Jvm.TEST_CLASSES.toString(),
                Rereader.class.getName(), config.toString(), "300"));
        assertEquals(0, rec.exit(), rec.out());
        Path html = dir.resolve("report.html");
        Jvm.Result r = Jvm.convert("report", jfr.toString(), html.toString());
        assertEquals(0, r.exit(), r.out());
        Matcher counts = Pattern.compile("storm.jfr: (\\d+) rules \\(11 of jfr-ebpf\\), (\\d+) findings").matcher(r.out());
        assertTrue(counts.find() && Integer.parseInt(counts.group(1)) > 11, "JMC's JDK rules and our 11: " + r.out());
        assertTrue(Pattern.compile("(?m)^\\s+Warning\\s+File-Open Storms\\s+1 paths opened 200 times or more; the most: "
                + Pattern.quote(config + " (301 opens, from io.jfrebpf.convert.it.Rereader.readAgain")).matcher(r.out()).find(), r.out());
        assertFalse(r.out().contains("WARNING: Could not find field"), "JMC's parser kept quiet: " + r.out());
        String page = Files.readString(html);
        for (String rule : List.of("eBPF Events Lost", "Slow System Calls on Application Threads", "File-Open Storms",
                "Slow or Failed TCP Connects", "TCP Retransmissions", "Connection Churn (Missing Pool)", "Slow PostgreSQL Statements",
                "N+1 PostgreSQL Statements", "Native Memory Leak Suspects", "Off-CPU Hot Spots", "Container CPU Throttling")) {
            assertTrue(page.contains(rule), rule + " in the report");
        }
        assertTrue(page.contains("Method Profiling"), "JMC's JDK rules in the report");
        assertTrue(page.contains("Rereader.readAgain"), "the storm's code in the report");
        assertTrue(page.indexOf("Kernel: jfr-ebpf") >= 0 && page.indexOf("Kernel: jfr-ebpf") < page.indexOf("File-Open Storms"),
                "our rules in a group of their own");
        Chromium.Page shown = Chromium.open(html, dir.resolve("report.png"));
        assertEquals(List.of(), shown.scriptErrors(), shown.log());

        // as a CI check: the storm fails it; raised above 301 opens, the same recording passes
        Jvm.Result gated = Jvm.convert("report", "--fail-on", "warning", jfr.toString(), html.toString());
        assertEquals(1, gated.exit(), gated.out());
        assertTrue(gated.out().contains("finding(s) at warning or above (--fail-on): exit 1"), gated.out());
        Path raised = dir.resolve("raised.html");
        Jvm.Result calm = Jvm.convert("report", "--set", "ebpf.file.storm=400", "--fail-on", "warning", jfr.toString(),
                raised.toString());
        assertEquals(0, calm.exit(), calm.out());
        assertFalse(calm.out().contains("File-Open Storms"), "no storm at 400 opens: " + calm.out());
        assertTrue(calm.out().contains("settings: {ebpf.file.storm=400}"), calm.out());
        assertTrue(Files.readString(raised).contains("File-Open Storms"), "the rule is in the page, quiet");
        assertFalse(Files.readString(raised).contains("1 paths opened 400 times"), "the page uses the setting too");
        Jvm.Result lowered = Jvm.convert("report", "--set", "ebpf.file.storm=100", jfr.toString(), raised.toString());
        assertTrue(lowered.out().contains("1 paths opened 100 times or more"), lowered.out());

        Jvm.Result list = Jvm.convert("report", "--list-settings");
        assertEquals(0, list.exit(), list.out());
        assertTrue(Pattern.compile("(?m)^\\s*ebpf\\.file\\.storm\\s+200\\s+File-Open Storms").matcher(list.out()).find(), list.out());
        assertTrue(Pattern.compile("(?m)^\\s*ebpf\\.syscall\\.slow\\s+10 ms\\s").matcher(list.out()).find(), list.out());
        Jvm.Result unknown = Jvm.convert("report", "--set", "ebpf.file.strom=5", jfr.toString(), dir.resolve("y.html").toString());
        assertEquals(2, unknown.exit(), unknown.out());
        assertTrue(unknown.out().contains("no rule has a setting 'ebpf.file.strom'") && unknown.out().contains("ebpf.file.storm"),
                unknown.out());
        Jvm.Result badValue = Jvm.convert("report", "--set", "ebpf.syscall.slow=soon", jfr.toString(), dir.resolve("y.html").toString());
        assertEquals(2, badValue.exit(), badValue.out());
        assertTrue(badValue.out().contains("--set ebpf.syscall.slow=soon: not a value of") && badValue.out().contains("its default is 10 ms"),
                badValue.out());
        assertFalse(Files.exists(dir.resolve("y.html")), "no report on a usage error");
    }

    @Test
    void badInputSaysWhatIsWrongInOneLine() throws Exception {
        Jvm.Result missing = Jvm.convert("flame", dir.resolve("nope.jfr").toString(), dir.resolve("x.html").toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.out().startsWith("convert: no such file: "), missing.out());
        Jvm.Result noEvents = Jvm.convert("flame", "--event", "ebpf.OffCPU", base.toString(), dir.resolve("x.html").toString());
        assertEquals(2, noEvents.exit());
        assertTrue(noEvents.out().contains("has no ebpf.OffCPU events with stacks; event types with stacks in it:")
                && noEvents.out().contains("ebpf.CPUSample"), noEvents.out());
        assertFalse(Files.exists(dir.resolve("x.html")), "no output file on failure");
        Path garbage = Files.writeString(dir.resolve("garbage.jfr"), "not a recording");
        Jvm.Result bad = Jvm.convert("summary", garbage.toString());
        assertEquals(2, bad.exit(), bad.out());
        assertTrue(bad.out().startsWith("convert: "), bad.out());
        Jvm.Result badReport = Jvm.convert("report", garbage.toString(), dir.resolve("x.html").toString());
        assertEquals(2, badReport.exit(), badReport.out());
        assertTrue(badReport.out().startsWith("convert: not a readable recording: "), badReport.out());
        assertFalse(Files.exists(dir.resolve("x.html")), "no report of garbage");
        Jvm.Result limit = Jvm.convert("gate", base.toString(), again.toString(), "cpu=lots");
        assertEquals(2, limit.exit());
        assertTrue(limit.out().contains("limit cpu has bad value 'lots'"), limit.out());
        assertEquals(2, Jvm.convert("frobnicate").exit());
    }

    static long samplesWithStacks(Path file) throws Exception {
        IItemCollection items = JfrLoaderToolkit.loadEvents(file.toFile());
        long n = 0;
        for (IItemIterable it : items.apply(ItemFilters.type("ebpf.CPUSample"))) {
            IMemberAccessor<IMCStackTrace, IItem> stack = JfrAttributes.EVENT_STACKTRACE.getAccessor(it.getType());
            for (IItem i : it) {
                if (stack != null && stack.getMember(i) != null && !stack.getMember(i).getFrames().isEmpty()) {
                    n++;
                }
            }
        }
        return n;
    }
}
