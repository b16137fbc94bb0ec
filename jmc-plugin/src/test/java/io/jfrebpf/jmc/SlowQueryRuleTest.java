package io.jfrebpf.jmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.events.read.EventNames;
import java.nio.file.Path;
import java.util.concurrent.RunnableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.flightrecorder.rules.IResult;
import org.openjdk.jmc.flightrecorder.rules.Severity;

/** Server time adds up: many statements below the single-statement threshold are reported by their total. */
class SlowQueryRuleTest {
    static IResult evaluate(IItemCollection items) throws Exception {
        RunnableFuture<IResult> f = new SlowQueryRule().createEvaluation(items, IPreferenceValueProvider.DEFAULT_VALUES, null);
        f.run();
        return f.get();
    }

    @Test
    void manyStatementsOfTwentyMillisecondsAddUpToAFinding(@TempDir Path dir) throws Exception {
        SyntheticRecordings r = new SyntheticRecordings();
        for (int i = 0; i < 50; i++) { // 50 x >= 21 ms: more than the 1 s default of the total view
            r.event(EventNames.POSTGRES_QUERY, 21, "query", "SELECT * FROM lines WHERE order_id = $1");
        }
        r.event(EventNames.POSTGRES_QUERY, 1, "query", "SELECT 1");
        IResult result = evaluate(r.items(dir.resolve("q.jfr")));
        assertEquals(Severity.WARNING, result.getSeverity(), result.getSummary());
        assertTrue(result.getSummary().contains("SELECT * FROM lines WHERE order_id = $1 took the server ")
                && result.getSummary().contains(" in all over 50 executions"), result.getSummary());
    }

    @Test
    void aFewFastStatementsStayQuiet(@TempDir Path dir) throws Exception {
        SyntheticRecordings r = new SyntheticRecordings();
        for (int i = 0; i < 5; i++) {
            r.event(EventNames.POSTGRES_QUERY, 2, "query", "SELECT * FROM lines WHERE order_id = $1");
        }
        IResult result = evaluate(r.items(dir.resolve("q.jfr")));
        assertEquals(Severity.OK, result.getSeverity(), result.getSummary());
    }

    @Test
    void theTotalHasItsOwnPreference() {
        assertEquals("ebpf.postgres.slow.total", SlowQueryRule.TOTAL.getIdentifier());
        assertTrue(new SlowQueryRule().getConfigurationAttributes().contains(SlowQueryRule.TOTAL));
        assertEquals(1_000_000_000L, SlowQueryRule.TOTAL.getDefaultValue().clampedLongValueIn(
                org.openjdk.jmc.common.unit.UnitLookup.NANOSECOND));
    }
}
