package io.jfrebpf.agent.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.it.PyroscopeServer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The series name as the server's parser (labelset.Parse, mirrored by the test server) reads it back. */
class SeriesNameTest {

    @Test
    void valuesCannotEndTheNameOrAddLabels() throws Exception {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("host", "web-1,role=admin}x");
        labels.put("zone", " eu {west} ");
        String name = SeriesName.of("checkout", labels);
        assertEquals("checkout{host=web-1_role_admin_x,zone=eu__west_}", name);
        Map<String, String> parsed = PyroscopeServer.LabelSet.parse(name);
        assertEquals(Map.of("__name__", "checkout", "host", "web-1_role_admin_x", "zone", "eu__west_"), parsed);
    }

    @Test
    void badKeysAndEmptyValuesAreLeftOutAndLongValuesCut() throws Exception {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("pod-name", "x"); // '-' is not allowed in a key: the server would answer 400
        labels.put("__name__", "other");
        labels.put("empty", "  ");
        labels.put("long", "é".repeat(2000)); // 4000 bytes of UTF-8
        String name = SeriesName.of("checkout", labels);
        Map<String, String> parsed = PyroscopeServer.LabelSet.parse(name);
        assertEquals("checkout", parsed.get("__name__"));
        assertFalse(parsed.containsKey("pod-name") || parsed.containsKey("empty"), name);
        assertEquals(SeriesName.MAX_VALUE_BYTES / 2, parsed.get("long").length());
    }

    @Test
    void thisJvmsLabelsDoNotChangeAtARestart() {
        Map<String, String> labels = PyroscopeUpload.labels();
        assertEquals(java.util.Set.of("host"), labels.keySet(), "no pid, no container id: a new series at every restart");
        assertTrue(!labels.get("host").isEmpty());
    }
}
