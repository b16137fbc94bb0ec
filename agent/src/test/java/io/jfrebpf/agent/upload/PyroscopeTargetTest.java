package io.jfrebpf.agent.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.Options;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Credentials, tenant and headers as pyroscope-java takes them, from options and its environment variables. */
class PyroscopeTargetTest {
    static final String SECRET = "glc_s3cret+token/==";

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    static PyroscopeTarget target(String args, Map<String, String> env) {
        return Options.fromAgentArgs(args, env).upload().orElseThrow();
    }

    @Test
    void grafanaCloudBasicAuthWithTheTokenFromTheEnvironment() {
        PyroscopeTarget t = target("upload=https://profiles-prod-001.grafana.net/,upload.user=123456",
                Map.of("PYROSCOPE_BASIC_AUTH_PASSWORD", SECRET));
        assertEquals(Map.of("Authorization", basic("123456", SECRET)), t.requestHeaders());
        assertEquals("https://profiles-prod-001.grafana.net/ingest", t.ingest().toString());
        assertFalse(t.secretOnCommandLine(), "the token came from the environment");
        assertEquals(Duration.ofSeconds(10), t.interval());
    }

    @Test
    void optionsWinOverTheEnvironmentKeyByKey() {
        Map<String, String> env = Map.of("PYROSCOPE_BASIC_AUTH_USER", "env-user", "PYROSCOPE_BASIC_AUTH_PASSWORD", "env-pass",
                "PYROSCOPE_TENANT_ID", "env-tenant", Options.ENV, "upload.tenant=team-a");
        PyroscopeTarget t = target("upload=http://pyroscope:4040,upload.password=" + SECRET, env);
        assertEquals(basic("env-user", SECRET), t.requestHeaders().get("Authorization"));
        assertEquals("team-a", t.requestHeaders().get("X-Scope-OrgID"), "JFR_EBPF_OPTIONS over PYROSCOPE_TENANT_ID");
        assertTrue(t.secretOnCommandLine());
    }

    @Test
    void bearerTokenTenantAndExtraHeadersAsPyroscopeJavaSendsThem() {
        PyroscopeTarget t = target("upload=https://pyroscope.example/prefix,upload.tenant=team-a,upload.headers=X-Team:payments+X-Env:prod",
                Map.of("PYROSCOPE_AUTH_TOKEN", SECRET));
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("X-Team", "payments");
        expected.put("X-Env", "prod");
        expected.put("X-Scope-OrgID", "team-a");
        expected.put("Authorization", "Bearer " + SECRET);
        assertEquals(expected, t.requestHeaders());
        assertEquals("https://pyroscope.example/prefix/ingest", t.ingest().toString());
    }

    @Test
    void basicAuthWinsOverTheUrlsCredentialsWhichWinOverAToken() {
        Map<String, String> token = Map.of("PYROSCOPE_AUTH_TOKEN", "tok");
        assertEquals(basic("u", "p"), target("upload=https://a:b@host,upload.user=u,upload.password=p", token).authorization());
        PyroscopeTarget url = target("upload=https://a%40corp:b%2Bc@host:4443", token);
        assertEquals(basic("a@corp", "b+c"), url.authorization());
        assertEquals("https://host:4443", url.server(), "the URL without its credentials");
        assertEquals("Bearer tok", target("upload=https://host", token).authorization());
        assertNull(target("upload=https://host", Map.of()).authorization());
    }

    @Test
    void explicitCredentialsOverrideTheSameExtraHeaders() {
        PyroscopeTarget t = target("upload=https://host,upload.tenant=t,upload.headers=Authorization:Bearer old+X-Scope-OrgID:old",
                Map.of("PYROSCOPE_AUTH_TOKEN", "new"));
        assertEquals(Map.of("X-Scope-OrgID", "t", "Authorization", "Bearer new"), t.requestHeaders());
    }

    @Test
    void pyroscopeJavasJsonHeaders() {
        PyroscopeTarget t = target("upload=https://host", Map.of("PYROSCOPE_HTTP_HEADERS", "{\"X-A\": \"1,2\", \"X-B\":\"q\\\"uote\"}"));
        assertEquals(Map.of("X-A", "1,2", "X-B", "q\"uote"), t.requestHeaders());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> target("upload=https://host", Map.of("PYROSCOPE_HTTP_HEADERS", "{\"Authorization\": \"" + SECRET)));
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    }

    @Test
    void theEnvironmentIsNotReadWithoutUpload() {
        assertTrue(Options.fromAgentArgs("", Map.of("PYROSCOPE_BASIC_AUTH_USER", "u")).upload().isEmpty());
    }

    @Test
    void neitherToStringNorOptionsShowTheSecrets() {
        String header = "hdr-s3cret";
        String inUrl = java.net.URLEncoder.encode(SECRET, StandardCharsets.UTF_8);
        PyroscopeTarget t = target("upload=https://u:" + inUrl + "@host,upload.headers=X-Key:" + header + ",upload.tenant=t1", Map.of());
        Options o = Options.fromAgentArgs("upload=https://u:" + inUrl + "@host,upload.headers=X-Key:" + header, Map.of());
        assertEquals(basic("u", SECRET), t.authorization());
        for (String text : new String[] {t.toString(), o.toString(), t.server()}) {
            assertFalse(text.contains(SECRET) || text.contains("s3cret") || text.contains(header), text);
        }
        assertEquals("https://host (basic auth, a tenant, 1 extra header, every 10000 ms)", t.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "upload=https://host,upload.user=u|'upload.user' goes with 'upload.password'",
            "upload=https://host,upload.password=SECRET|'upload.user' goes with 'upload.password'",
            "upload.user=u|'upload.user' goes with 'upload'",
            "upload=https://u:SECRET@|option 'upload' has a bad value;",
            "upload=https://onlyuser@host|credentials in its URL without user and password",
            "upload=https://host,upload.headers=X-Key=SECRET|'upload.headers' has an item that is not Name:value",
            "upload=https://host,upload.headers=Content-Type:x|sets header 'Content-Type', which the agent sets itself",
            "upload=https://host,upload.headers=X Key:SECRET|'upload.headers' has a bad header name",
            "upload=https://host,upload.interval=500ms|'upload.interval' must be from 1s to 10m",
            "upload=https://host,upload.interval=2h|'upload.interval' must be from 1s to 10m",
            "upload=ftp://host|the base URL of a Pyroscope server"})
    void badValuesNameTheKeyButNeverTheSecret(String args, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Options.fromAgentArgs(args.replace("SECRET", SECRET), Map.of()));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    }

    @Test
    void controlCharactersCannotEndAHeader() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> target("upload=https://host", Map.of("PYROSCOPE_AUTH_TOKEN", SECRET + "\r\nX-Evil: 1")));
        assertTrue(e.getMessage().contains("'upload.token'") && !e.getMessage().contains(SECRET), e.getMessage());
    }
}
