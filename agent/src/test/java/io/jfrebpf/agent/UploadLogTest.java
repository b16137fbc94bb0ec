package io.jfrebpf.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.it.PyroscopeServer;
import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.agent.upload.PyroscopeUpload;
import io.jfrebpf.events.CPUSampleEvent;
import io.jfrebpf.events.OffCPUEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What upload= logs: each cause of loss once, and never a credential, not even at debug. */
class UploadLogTest {
    static final String SECRET = "glc_s3cret";

    @Test
    void eachCauseIsLoggedOnceAndNoCredentialEver() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Log.Level level = Log.level();
        Log.setLevel(Log.Level.DEBUG);
        Log.redirect(new PrintStream(out, true, StandardCharsets.UTF_8));
        try (PyroscopeServer server = PyroscopeServer.start()) {
            server.multitenancy(true).requireAuthorization("Basic other");
            Options o = Options.fromAgentArgs("upload=" + server.url() + ",upload.user=123456,upload.tenant=team-a,"
                    + "upload.headers=X-Key:" + SECRET + "h", Map.of("PYROSCOPE_BASIC_AUTH_PASSWORD", SECRET));
            PyroscopeUpload u = new PyroscopeUpload(o.upload().orElseThrow(), "checkout", Map.of("host", "web-1"), (t, ms) -> true, 99);
            JfrStack stack = new JfrStack(List.of(new JfrFrame("com.example.Shop", "burn", "()V", 1, 1, "JIT compiled")), false);
            u.recorded(new CPUSampleEvent(), 0, stack);
            u.recorded(new OffCPUEvent(), 1_000, stack);
            u.finish();
            assertEquals(2, server.requests().size());
        } finally {
            Log.redirect(System.err);
            Log.setLevel(level);
        }
        String log = out.toString(StandardCharsets.UTF_8);
        assertFalse(log.contains(SECRET) || log.contains("MTIzNDU2Og"), log); // nor the base64 of "123456:"
        List<String> refusals = log.lines().filter(l -> l.contains("warn:") && l.contains("HTTP 401")).toList();
        assertEquals(1, refusals.size(), log);
        assertTrue(log.lines().anyMatch(l -> l.contains("info: upload: 0 profiles sent") && l.contains("2 lost (2 rejected")), log);
    }
}
