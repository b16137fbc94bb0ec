package io.jfrebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.jfr.JfrSettings;
import io.jfrebpf.agent.Options.ProbeName;
import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class OptionsTest {

    @Test
    void defaultsAreThoseOfTheDesign() {
        Options o = Options.defaults();
        assertEquals("jfr-ebpf-%p.jfr", o.file());
        assertEquals(EnumSet.of(ProbeName.CPU, ProbeName.OFFCPU, ProbeName.FILE, ProbeName.TCP, ProbeName.POSTGRES), o.probes());
        assertEquals(99, o.cpuHz());
        assertEquals(Duration.ofMillis(1), o.syscallThreshold());
        assertEquals(Duration.ofMillis(1), o.offcpuThreshold());
        assertEquals(Duration.ofMillis(1), o.schedThreshold());
        assertEquals(512 * 1024, o.mallocInterval());
        assertEquals(Optional.empty(), o.mallocDuration());
        assertEquals(Optional.empty(), o.mallocAge(), "fits the recording: 10 s, or half the time traced when shorter");
        assertEquals(JfrSettings.DEFAULT, o.jfr());
        assertEquals(Optional.empty(), o.duration());
        assertEquals(Optional.empty(), o.upload());
        assertEquals(Optional.empty(), o.interval());
        assertEquals(List.of(), o.redactPaths());
        assertTrue(o.postgresRedact(), "SQL literals are redacted unless asked not to");
        assertEquals(Log.Level.INFO, o.log());
    }

    @Test
    void redactedPathsAreAbsoluteDirectories() {
        assertEquals(List.of("/home", "/run/secrets"), Options.parse("redact.paths=/home/+/run/secrets").redactPaths());
    }

    @Test
    void slicesAreBoundedByCountOrSize() {
        Options o = Options.parse("interval=10m,maxfiles=12,maxsize=2g,upload=http://127.0.0.1:4040,service=checkout");
        assertEquals(Optional.of(Duration.ofMinutes(10)), o.interval());
        assertEquals(12, o.maxFiles());
        assertEquals(2L << 30, o.maxSize());
        assertEquals(Optional.of("checkout"), o.service());
    }

    @Test
    void theAgentsCodeIsCompiledByC1UnlessAskedOtherwise() {
        assertEquals(Options.Jit.C1, Options.defaults().jit(), "C2 compiling the agent's code was most of an idle JVM's extra CPU");
        assertEquals(Options.Jit.TIERED, Options.parse("jit=tiered").jit());
        assertTrue(Options.parse("jit=Tiered").describe().contains("jit=tiered"));
        assertFalse(Options.defaults().describe().contains("jit="));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Options.parse("jit=c2"));
        assertTrue(e.getMessage().contains("accepted: c1 tiered"), e.getMessage());
    }

    @Test
    void unmountedWaitsOfVirtualThreadsAreTracedOnlyWhenAskedFor() {
        assertFalse(Options.defaults().offcpuVirtual(), "each park would pay uprobes and a stack walk");
        assertTrue(Options.parse("offcpu.virtual=true").offcpuVirtual());
        assertTrue(Options.parse("offcpu.virtual=true").describe().contains("offcpu.virtual=true"));
        assertFalse(Options.parse("offcpu.virtual=false").offcpuVirtual());
    }

    @Test
    void sqlLiteralsAreKeptOnlyWhenAskedFor() {
        assertFalse(Options.parse("postgres.redact=false").postgresRedact());
        assertFalse(Options.parse("postgres.redact=OFF").postgresRedact());
        assertTrue(Options.parse("postgres.redact=true").postgresRedact());
    }

    @Test
    void everyKeyParses() {
        Options o = Options.parse("file=/tmp/x-%p-%t.jfr, probes=syscall+file,cpu.hz=49,syscall.threshold=0,"
                + "offcpu.threshold=250us,sched.threshold=20ms,malloc.interval=1m,malloc.duration=30s,malloc.age=0,jfr=profile,duration=20s,upload=http://127.0.0.1:4040,"
                + "interval=10m,log=debug");
        assertEquals("/tmp/x-%p-%t.jfr", o.file());
        assertEquals(EnumSet.of(ProbeName.SYSCALL, ProbeName.FILE), o.probes());
        assertEquals(49, o.cpuHz());
        assertEquals(Duration.ZERO, o.syscallThreshold());
        assertEquals(Duration.ofNanos(250_000), o.offcpuThreshold());
        assertEquals(Duration.ofMillis(20), o.schedThreshold());
        assertEquals(1 << 20, o.mallocInterval());
        assertEquals(Optional.of(Duration.ofSeconds(30)), o.mallocDuration());
        assertEquals(Optional.of(Duration.ZERO), o.mallocAge());
        assertEquals(JfrSettings.PROFILE, o.jfr());
        assertEquals(Optional.of(Duration.ofSeconds(20)), o.duration());
        assertEquals(URI.create("http://127.0.0.1:4040/ingest"), o.upload().orElseThrow().ingest());
        assertEquals(Duration.ofSeconds(10), o.upload().orElseThrow().interval(), "pushed every 10 s, as pyroscope-java does");
        assertEquals(Optional.of(Duration.ofMinutes(10)), o.interval());
        assertEquals(Log.Level.DEBUG, o.log());
    }

    @Test
    void allMeansEveryProbe() {
        assertEquals(EnumSet.allOf(ProbeName.class), Options.parse("probes=all").probes());
        assertEquals(EnumSet.allOf(ProbeName.class), Options.parse("probes=file+all").probes());
    }

    @ParameterizedTest
    @CsvSource({"0,0", "7ns,7", "3us,3000", "2ms,2000000", "1s,1000000000", "2m,120000000000", "1h,3600000000000"})
    void durationUnits(String text, long nanos) {
        assertEquals(Duration.ofNanos(nanos), Options.parse("syscall.threshold=" + text).syscallThreshold());
    }

    @ParameterizedTest
    @CsvSource({"0,0", "100,100", "4k,4096", "512K,524288", "2m,2097152", "1g,1073741824", "64kb,65536"})
    void sizeUnits(String text, long bytes) {
        assertEquals(bytes, Options.parse("malloc.interval=" + text).mallocInterval());
    }

    @Test
    void environmentIsOverriddenKeyByKeyByTheAgentArgument() {
        Options o = Options.fromAgentArgs("probes=file", Map.of(Options.ENV, "probes=syscall,log=warn"));
        assertEquals(EnumSet.of(ProbeName.FILE), o.probes());
        assertEquals(Log.Level.WARN, o.log());
        assertEquals(Options.defaults(), Options.fromAgentArgs(null, Map.of()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "colour=red|unknown option 'colour'",
            "probes=cpu+disk|unknown probe 'disk'",
            "probes=cpu+disk|accepted: cpu offcpu syscall file tcp malloc postgres sched all",
            "cpu.hz=0|'cpu.hz' has bad value '0'",
            "cpu.hz=fast|accepted: a whole number from 1 to 10000",
            "syscall.threshold=5|has no unit",
            "syscall.threshold=-1ms|'syscall.threshold' has bad value '-1ms'",
            "offcpu.threshold=1 week|accepted: a number with a unit ns us ms s m h",
            "duration=0|'duration' must be greater than 0",
            "interval=0s|'interval' must be greater than 0",
            "malloc.interval=lots|'malloc.interval' has bad value 'lots'",
            "malloc.interval=99999999999999999999|too large",
            "malloc.interval=4g|accepted: 0 (every call) to 4g - 1 bytes",
            "malloc.duration=0|'malloc.duration' must be greater than 0",
            "malloc.age=soon|'malloc.age' has bad value 'soon'",
            "jfr=everything|accepted: default profile none",
            "upload=ftp://host|the base URL of a Pyroscope server",
            "log=verbose|accepted: error warn info debug",
            "file=|option 'file' is empty",
            "probes|is not key=value",
            "log=info,log=debug|given twice",
            "redact.paths=home|'redact.paths' has bad value 'home'",
            "redact.paths=/|absolute directories other than /",
            "postgres.redact=maybe|'postgres.redact' has bad value 'maybe'; accepted: true false",
            "maxfiles=3|bound the slices of a recording cut by 'interval'; give interval= too",
            "interval=10m,maxfiles=0|'maxfiles' has bad value '0'; accepted: a whole number from 1",
            "interval=500ms|'interval' must be at least 1s",
            "service=my app|'service' has bad value 'my app'"})
    void badValuesNameTheKeyAndTheAcceptedValues(String text, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Options.parse(text));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", ",", " , "})
    void emptyMeansDefaults(String text) {
        assertEquals(Options.defaults(), Options.parse(text));
    }

    @Test
    void durationOverflowIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Options.parse("duration=99999999999999999h"));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }
}
