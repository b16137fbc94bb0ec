package io.jfrebpf.jmc;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/**
 * Where the PostgreSQL server spent its time for this JVM, with the Java code that sent the
 * statements: a statement that took long once, and a statement whose executions add up (2,479 of
 * 20 ms each are 50 s of server time, though none is slow on its own).
 */
public final class SlowQueryRule extends EbpfRule {
    static final TypedPreference<IQuantity> THRESHOLD = time("postgres.slow", "Slow PostgreSQL statement",
            "A statement the server took at least this long on is reported", 100);
    static final TypedPreference<IQuantity> TOTAL = time("postgres.slow.total", "PostgreSQL statement time in all",
            "A statement whose executions took the server at least this long in all is reported", 1000);

    public SlowQueryRule() {
        super("SlowQuery", "Slow PostgreSQL Statements", List.of(EventNames.POSTGRES_QUERY), THRESHOLD, TOTAL, APP_PACKAGES);
    }

    /** One statement's executions: count, server time in all, the code that sent it most. */
    private static final class Statement {
        long count;
        long nanos;
        final Map<String, Long> sites = new HashMap<>();
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        CallSites callSites = callSites(p);
        List<Events.Event> queries = Events.of(items, EventNames.POSTGRES_QUERY);
        if (queries.isEmpty()) {
            return notApplicable(p, NO_POSTGRES_QUERIES);
        }
        long threshold = nanos(p, THRESHOLD);
        long totalThreshold = nanos(p, TOTAL);
        Map<String, Statement> byText = new HashMap<>();
        for (Events.Event e : queries) {
            Statement s = byText.computeIfAbsent(String.valueOf(e.text("query")), k -> new Statement());
            s.count++;
            s.nanos += e.durationNanos();
            s.sites.merge(e.callSite(callSites), 1L, Long::sum);
        }
        Map.Entry<String, Statement> costliest = byText.entrySet().stream()
                .max((a, b) -> Long.compare(a.getValue().nanos, b.getValue().nanos)).orElseThrow();
        Statement c = costliest.getValue();
        String adding = c.nanos < totalThreshold ? null : costliest.getKey() + " took the server " + ms(c.nanos) + " in all over "
                + c.count + " executions (" + ms(c.nanos / c.count) + " each on average), sent from " + Events.topSite(c.sites);

        List<Events.Event> slow = queries.stream().filter(e -> e.durationNanos() >= threshold).toList();
        if (slow.isEmpty() && adding == null) {
            return ok(p, "All " + queries.size() + " statements took the server less than " + ms(threshold) + ", and none "
                    + ms(totalThreshold) + " in all.");
        }
        String fix = "EXPLAIN ANALYZE the statement; look at indexes, the rows it reads, and the locks it waited for.";
        if (slow.isEmpty()) {
            return result(p, WARNING, "No statement took the server " + ms(threshold) + ", but one adds up: " + adding + ".",
                    "The time is the server's, from its own probes: planning and execution, summed over every execution of the"
                            + " statement's text. Many moderately fast executions cost as much as one slow one.",
                    fix + " Or run it less often: cache its result, or fetch what the loop needs in one statement.");
        }
        Events.Event worst = slow.stream().max((a, b) -> Long.compare(a.durationNanos(), b.durationNanos())).orElseThrow();
        long lockWait = slow.stream().mapToLong(e -> e.nanos("lockWait")).sum();
        return result(p, WARNING, slow.size() + " of " + queries.size() + " statements took the server " + ms(threshold) + " or more;"
                + " the slowest " + ms(worst.durationNanos()) + ": " + worst.text("query") + " from " + worst.callSite(callSites)
                + (lockWait > 0 ? "; " + ms(lockWait) + " of it waiting for locks" : "") + "."
                + (adding == null ? "" : " In all, " + adding + "."),
                "The time is the server's, from its own probes: planning and execution, not the network or the driver.",
                fix);
    }
}
