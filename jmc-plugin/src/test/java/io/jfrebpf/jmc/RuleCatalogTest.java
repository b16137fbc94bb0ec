package io.jfrebpf.jmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RunnableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.openjdk.jmc.common.item.ItemCollectionToolkit;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.flightrecorder.rules.IResult;
import org.openjdk.jmc.flightrecorder.rules.IRule;
import org.openjdk.jmc.flightrecorder.rules.RuleRegistry;
import org.openjdk.jmc.flightrecorder.rules.Severity;

/** The two ways JMC finds the rules (services file headless, plugin.xml in the desktop) list the same classes. */
class RuleCatalogTest {
    static List<String> servicesFile() throws IOException {
        return lines("/META-INF/services/" + IRule.class.getName()).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    static List<String> pluginXml() throws IOException {
        Matcher m = Pattern.compile("<rule class=\"([^\"]+)\"").matcher(String.join("\n", lines("/plugin.xml")));
        List<String> classes = new java.util.ArrayList<>();
        while (m.find()) {
            classes.add(m.group(1));
        }
        return classes;
    }

    private static List<String> lines(String resource) throws IOException {
        try (InputStream in = RuleCatalogTest.class.getResourceAsStream(resource)) {
            assertTrue(in != null, resource);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    @Test
    void theServicesFileAndPluginXmlListTheSameElevenRules() throws IOException {
        assertEquals(11, servicesFile().size(), servicesFile().toString());
        assertEquals(servicesFile(), pluginXml());
    }

    @Test
    void jmcsRuleRegistryFindsEveryRuleOnceWithItsOwnIdNameAndTopic() throws IOException {
        Set<String> ours = new HashSet<>();
        Set<String> ids = new HashSet<>();
        for (IRule rule : RuleRegistry.getRules()) {
            if (rule.getClass().getPackageName().equals("io.jfrebpf.jmc")) {
                ours.add(rule.getClass().getName());
                assertTrue(rule.getId().startsWith("ebpf.") && ids.add(rule.getId()), "id of " + rule.getClass());
                assertEquals("ebpf", rule.getTopic());
                assertFalse(rule.getName().isBlank());
            }
        }
        assertEquals(Set.copyOf(servicesFile()), ours);
        assertTrue(RuleRegistry.getRules().size() > ours.size(), "JMC's own JDK rules are there too");
    }

    /** A recording without our events (e.g. a plain JVM recording): every rule says which probe it needs, none fails. */
    @Test
    void onARecordingWithoutEbpfEventsEveryRuleIsNotApplicableAndSaysWhy() throws Exception {
        for (String name : servicesFile()) {
            IRule rule = (IRule) Class.forName(name).getConstructor().newInstance();
            RunnableFuture<IResult> f = rule.createEvaluation(ItemCollectionToolkit.EMPTY, IPreferenceValueProvider.DEFAULT_VALUES, null);
            f.run();
            IResult result = f.get();
            assertEquals(Severity.NA, result.getSeverity(), name);
            assertTrue(result.getSummary().contains("ebpf.") || result.getSummary().contains("probes="), name + ": " + result.getSummary());
        }
    }
}
