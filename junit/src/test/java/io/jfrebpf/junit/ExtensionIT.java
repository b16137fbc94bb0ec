package io.jfrebpf.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The extension end to end: sample test classes run through the real JUnit Platform in this JVM,
 * the extension attaching the real agent to it; the kernel assertions pass where they should
 * and fail, naming the offending call, where they should.
 */
class ExtensionIT {
    @TempDir
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        assertTrue(Files.readString(Path.of("/proc/self/status")).lines().anyMatch(l -> l.matches("Uid:\\s+0\\s.*")),
                "the extension's tests load BPF programs: run as root");
        System.setProperty("jfrebpf.junit.dir", dir.resolve("recordings").toString());
        ExtensionSamples.forbidden = Files.createDirectories(dir.resolve("forbidden"));
        Files.writeString(ExtensionSamples.forbidden.resolve("secret.txt"), "s");
    }

    /** Runs a sample class; test method name -> null when it passed, else its failure message. */
    static Map<String, String> run(Class<?> samples) {
        Map<String, String> results = new HashMap<>();
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectClass(samples)).build();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest()) {
                    results.put(id.getDisplayName().replaceAll("\\(.*", ""), result.getStatus() == TestExecutionResult.Status.SUCCESSFUL
                            ? null : result.getThrowable().map(Throwable::toString).orElse(result.getStatus().toString()));
                }
            }
        });
        return results;
    }

    @Test
    void fsyncCountsPassUnderTheLimitAndFailOverItNamingTheCaller() {
        Map<String, String> r = run(ExtensionSamples.Fsync.class);
        assertEquals(2, r.size(), r.toString());
        assertEquals(null, r.get("twoFsyncsAreWithinThree"), r.toString());
        String failure = r.get("fiveFsyncsAreNot");
        System.out.println("the failure as a user sees it: " + failure);
        assertTrue(failure != null && failure.contains("expected at most 3 fsync calls during fiveFsyncsAreNot(KernelEvents), the kernel saw 5")
                && failure.contains("io.jfrebpf.junit.ExtensionSamples.fsyncs"), String.valueOf(failure));
    }

    @Test
    void opensUnderADirectoryFailWithThePath() {
        Map<String, String> r = run(ExtensionSamples.Opens.class);
        assertEquals(null, r.get("opensElsewhereAreFine"), r.toString());
        String failure = r.get("anOpenUnderTheDirectoryFails");
        assertTrue(failure != null && failure.contains("expected no file opened under " + ExtensionSamples.forbidden)
                && failure.contains(ExtensionSamples.forbidden.resolve("secret.txt").toString())
                && failure.contains("ExtensionSamples$Opens.anOpenUnderTheDirectoryFails"), String.valueOf(failure));
    }

    @Test
    void aConnectionToAForbiddenPortFails() throws Exception {
        try (ServerSocket forbidden = ExtensionSamples.server(); ServerSocket allowed = ExtensionSamples.server()) {
            ExtensionSamples.forbiddenPort = forbidden.getLocalPort();
            ExtensionSamples.allowedPort = allowed.getLocalPort();
            Map<String, String> r = run(ExtensionSamples.Connections.class);
            assertEquals(null, r.get("aConnectionToAnotherPortIsFine"), r.toString());
            String failure = r.get("aConnectionToThePortFails");
            assertTrue(failure != null && failure.contains("expected no connection to port " + forbidden.getLocalPort())
                    && failure.contains("ExtensionSamples.connect"), String.valueOf(failure));
        }
    }
}
