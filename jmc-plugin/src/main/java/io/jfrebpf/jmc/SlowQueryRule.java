package io.jfrebpf.jmc;

import java.util.List;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/** Statements the PostgreSQL server took long on, with the Java code that sent them. */
public final class SlowQueryRule extends EbpfRule {
    static final TypedPreference<IQuantity> THRESHOLD = time("postgres.slow", "Slow PostgreSQL statement",
            "A statement the server took at least this long on is reported", 100);

    public SlowQueryRule() {
        super("SlowQuery", "Slow PostgreSQL Statements", THRESHOLD);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        List<Events.Event> queries = Events.of(items, "ebpf.PostgresQuery");
        if (queries.isEmpty()) {
            return notApplicable(p, "No ebpf.PostgresQuery events: no PostgreSQL server on the same host served this JVM.");
        }
        long threshold = nanos(p, THRESHOLD);
        List<Events.Event> slow = queries.stream().filter(e -> e.durationNanos() >= threshold).toList();
        if (slow.isEmpty()) {
            return ok(p, "All " + queries.size() + " statements took the server less than " + ms(threshold) + ".");
        }
        Events.Event worst = slow.stream().max((a, b) -> Long.compare(a.durationNanos(), b.durationNanos())).orElseThrow();
        long lockWait = slow.stream().mapToLong(e -> e.nanos("lockWait")).sum();
        return result(p, WARNING, slow.size() + " of " + queries.size() + " statements took the server " + ms(threshold) + " or more;"
                + " the slowest " + ms(worst.durationNanos()) + ": " + worst.text("query") + " from " + worst.callSite("org.postgresql.")
                + (lockWait > 0 ? "; " + ms(lockWait) + " of it waiting for locks" : "") + ".",
                "The time is the server's, from its own probes: planning and execution, not the network or the driver.",
                "EXPLAIN ANALYZE the statement; look at indexes, the rows it reads, and the locks it waited for.");
    }
}
