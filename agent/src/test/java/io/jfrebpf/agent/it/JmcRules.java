package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.RunnableFuture;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import jdk.jfr.consumer.RecordedEvent;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.item.IItemIterable;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;
import org.openjdk.jmc.flightrecorder.rules.IResult;
import org.openjdk.jmc.flightrecorder.rules.IRule;
import org.openjdk.jmc.flightrecorder.rules.RuleRegistry;
import org.openjdk.jmc.flightrecorder.rules.Severity;
import org.openjdk.jmc.flightrecorder.rules.util.RulesToolkit;

/**
 * The JMC plugin's rules run on a recording the way JMC and the converter's report run them:
 * found by JMC's registry through the plugin's services file, with their default settings, and
 * evaluated only when the recording has the events each declares it requires (JMC's engine says
 * "not applicable" otherwise).
 */
final class JmcRules {
    /** JMC's parser logs every field it does not know (JDK 21+'s Thread.virtual): kept to errors, as in the converter. */
    private static final Logger JMC_LOG = Logger.getLogger("org.openjdk.jmc");

    static {
        JMC_LOG.setLevel(Level.SEVERE);
    }

    private final Map<String, IResult> results = new TreeMap<>();

    private JmcRules() {
    }

    static JmcRules on(Path recording) throws Exception {
        List<String> parserLog = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    parserLog.add(r.getLevel() + " " + r.getMessage() + (r.getThrown() == null ? "" : ": " + r.getThrown()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        JMC_LOG.addHandler(capture);
        IItemCollection items;
        try {
            items = JfrLoaderToolkit.loadEvents(recording.toFile());
        } finally {
            JMC_LOG.removeHandler(capture);
        }
        // JMC's loader silently leaves out a chunk it takes for truncated: the rules would then judge
        // a recording without our events. Both parsers must see the same events before any rule runs.
        Map<String, Long> jdk = new TreeMap<>();
        for (RecordedEvent e : Recordings.read(recording)) {
            if (e.getEventType().getName().startsWith("ebpf.")) {
                jdk.merge(e.getEventType().getName(), 1L, Long::sum);
            }
        }
        Map<String, Long> jmc = new TreeMap<>();
        for (IItemIterable iterable : items) {
            if (iterable.getItemCount() > 0 && jdk.containsKey(iterable.getType().getIdentifier())) {
                jmc.merge(iterable.getType().getIdentifier(), iterable.getItemCount(), Long::sum);
            }
        }
        assertEquals(jdk, jmc, "events by type as the JDK's parser and JMC's read " + recording + "; JMC's log: " + parserLog);
        JmcRules r = new JmcRules();
        for (IRule rule : RuleRegistry.getRules()) {
            if (rule.getId().startsWith("ebpf.")) {
                if (!RulesToolkit.matchesEventAvailabilityMap(items, rule.getRequiredEvents())) {
                    r.results.put(rule.getId(), RulesToolkit.getNotApplicableResult(rule, IPreferenceValueProvider.DEFAULT_VALUES,
                            "not evaluated by JMC's engine: " + RulesToolkit.getIgnoreReason(items, rule)));
                    continue;
                }
                RunnableFuture<IResult> evaluation = rule.createEvaluation(items, IPreferenceValueProvider.DEFAULT_VALUES, null);
                evaluation.run();
                r.results.put(rule.getId(), evaluation.get());
            }
        }
        assertEquals(11, r.results.size(), "the plugin's rules in JMC's registry: " + r.results.keySet());
        return r;
    }

    /** The rule reports a problem (JMC's INFO or WARNING) whose summary names each of {@code mentions}. */
    JmcRules fires(String rule, String... mentions) {
        IResult result = result(rule);
        assertTrue(result.getSeverity() == Severity.INFO || result.getSeverity() == Severity.WARNING, rule + " quiet: " + describe(result));
        for (String m : mentions) {
            assertTrue(result.getSummary().contains(m), rule + " does not name " + m + ": " + describe(result));
        }
        assertTrue(result.getExplanation() != null && !result.getExplanation().isBlank(), rule + " explains nothing");
        assertTrue(result.getSolution() != null && !result.getSolution().isBlank(), rule + " says nothing to do");
        return this;
    }

    /** The rule had its events and found nothing to report (JMC's OK, not "not applicable"). */
    JmcRules quiet(String... rules) {
        for (String rule : rules) {
            IResult result = result(rule);
            assertEquals(Severity.OK, result.getSeverity(), rule + ": " + describe(result));
        }
        return this;
    }

    Severity severity(String rule) {
        return result(rule).getSeverity();
    }

    String summary(String rule) {
        return result(rule).getSummary();
    }

    private IResult result(String rule) {
        IResult result = results.get("ebpf." + rule);
        assertTrue(result != null, "no rule ebpf." + rule + " in " + results.keySet());
        return result;
    }

    static String describe(IResult r) {
        return r.getSeverity() + " " + r.getSummary();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        results.forEach((id, r) -> b.append(id).append(": ").append(describe(r)).append('\n'));
        return b.toString();
    }
}
