package io.jfrebpf.jmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.events.read.EventNames;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.flightrecorder.rules.IResult;
import org.openjdk.jmc.flightrecorder.rules.IRule;
import org.openjdk.jmc.flightrecorder.rules.Severity;
import org.openjdk.jmc.flightrecorder.rules.util.RulesToolkit;

/**
 * Each rule declares the event types it needs, as JMC's JDK rules do, and JMC's engine
 * (RulesToolkit, which the desktop and the converter's report use) judges from them: a recording
 * without those events makes the rule not applicable without evaluating it, one with them
 * evaluates it.
 */
class RequiredEventsTest {
    static List<IRule> ours() throws Exception {
        List<IRule> rules = new ArrayList<>();
        for (String name : RuleCatalogTest.servicesFile()) {
            rules.add((IRule) Class.forName(name).getConstructor().newInstance());
        }
        return rules;
    }

    @Test
    void everyRuleRequiresEventsOfTheCatalogAsAvailable() throws Exception {
        for (IRule rule : ours()) {
            Map<String, RulesToolkit.EventAvailability> required = rule.getRequiredEvents();
            assertFalse(required.isEmpty(), rule.getId() + " requires no events");
            required.forEach((type, availability) -> {
                assertTrue(EventNames.ALL.contains(type), rule.getId() + ": " + type);
                assertEquals(RulesToolkit.EventAvailability.AVAILABLE, availability, rule.getId() + ": " + type);
            });
        }
    }

    @Test
    void jmcsEngineFindsNoRuleApplicableToARecordingWithoutOurEventsAndEvaluatesEachOnOneWithThem(@TempDir Path dir)
            throws Exception {
        List<IRule> rules = ours();
        // a plain recording: an event of the JVM's kind, none of ours
        IItemCollection plain = new SyntheticRecordings().event("test.Unrelated", 0, "text", "x").items(dir.resolve("plain.jfr"));
        // one event of every type a rule requires, with no fields: each rule finds nothing to report
        SyntheticRecordings withEvents = new SyntheticRecordings();
        for (IRule rule : rules) {
            for (String type : rule.getRequiredEvents().keySet()) {
                withEvents.event(type, 0);
            }
        }
        IItemCollection ebpf = withEvents.items(dir.resolve("ebpf.jfr"));

        Map<IRule, Future<IResult>> none = RulesToolkit.evaluateParallel(rules, plain, null, 1);
        Map<IRule, Future<IResult>> some = RulesToolkit.evaluateParallel(rules, ebpf, null, 1);
        for (IRule rule : rules) {
            assertFalse(RulesToolkit.matchesEventAvailabilityMap(plain, rule.getRequiredEvents()), rule.getId());
            assertTrue(RulesToolkit.getIgnoreReason(plain, rule).contains("expected status is AVAILABLE"),
                    rule.getId() + ": " + RulesToolkit.getIgnoreReason(plain, rule));
            assertEquals(Severity.NA, none.get(rule).get().getSeverity(), rule.getId());

            assertTrue(RulesToolkit.matchesEventAvailabilityMap(ebpf, rule.getRequiredEvents()), rule.getId());
            IResult r = some.get(rule).get();
            assertEquals(Severity.OK, r.getSeverity(), rule.getId() + " evaluated: " + r.getSummary());
        }
    }
}
