package io.jfrebpf.agent.it;

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

/**
 * The agent's code is compiled by C1 only (jvm.AgentCompilation), seen in HotSpot's own
 * -XX:+PrintCompilation of a JVM whose agent writes 30,000 file opens: the agent's hot methods
 * reach C2's threshold and are turned away by the directive, none is compiled at tier 4, and
 * the JDK's code still is. With jit=tiered none is turned away.
 */
class AgentCompilationIT {
    /** "  1234  567  %sbn!  4       io.jfrebpf.agent.X::m (12 bytes)" */
    private static final Pattern COMPILE = Pattern.compile("^\\s*\\d+\\s+\\d+\\s+[%sbn! ]*([0-4])\\s+(\\S+)::");

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    private static ChildJvm.Result run(Path dir, String options) throws Exception {
        Path file = Files.writeString(dir.resolve("opened"), "x");
        return ChildJvm.workload(Workloads.OpensAtTheEndOfMain.class, file.toString(), "30000").in(dir)
                .flag("-XX:+PrintCompilation").agent("file=" + dir.resolve("r.jfr") + ",probes=file,startup=wait" + options)
                .run(dir).assertSucceeded();
    }

    private static long compiled(String output, String level, String prefix) {
        return output.lines().map(COMPILE::matcher).filter(Matcher::find)
                .filter(m -> m.group(1).equals(level) && m.group(2).startsWith(prefix)).count();
    }

    @Test
    void c2LeavesTheAgentsCodeAlone(@TempDir Path dir) throws Exception {
        String out = run(dir, "").output();
        assertTrue(out.contains("### Excluding compile:") && out.lines().anyMatch(l -> l.startsWith("### Excluding compile:")
                && l.contains("io.jfrebpf.")), "no method of the agent got hot enough to be turned away from C2:\n" + tail(out));
        assertEquals(0, compiled(out, "4", "io.jfrebpf."), "an agent method compiled by C2:\n" + tail(out));
        assertTrue(compiled(out, "4", "java.") > 0, "the JDK's code is still compiled by C2:\n" + tail(out));
        assertTrue(compiled(out, "1", "io.jfrebpf.") > 0, "the turned-away methods are compiled by C1 at tier 1:\n" + tail(out));
    }

    @Test
    void tieredLeavesItToTheJvm(@TempDir Path dir) throws Exception {
        String out = run(dir, ",jit=tiered").output();
        assertFalse(out.contains("### Excluding compile:"), tail(out));
    }

    private static String tail(String out) {
        List<String> l = out.lines().filter(x -> x.contains("jfrebpf") || x.startsWith("###")).toList();
        return String.join("\n", l.subList(Math.max(0, l.size() - 60), l.size()));
    }
}
