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

/** The same statement sent over and over from one place in the code: the N+1 query pattern. */
public final class NPlusOneRule extends EbpfRule {
    static final TypedPreference<IQuantity> REPEATS = count("postgres.nplusone", "N+1 statements",
            "The same statement from the same code at least this many times is reported", 500);

    public NPlusOneRule() {
        super("NPlusOne", "N+1 PostgreSQL Statements", List.of(EventNames.POSTGRES_QUERY), REPEATS, APP_PACKAGES);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        CallSites callSites = callSites(p);
        List<Events.Event> queries = Events.of(items, EventNames.POSTGRES_QUERY);
        if (queries.isEmpty()) {
            return notApplicable(p, NO_POSTGRES_QUERIES);
        }
        Map<String, Long> repeats = new HashMap<>();
        Map<String, Long> serverTime = new HashMap<>();
        for (Events.Event e : queries) {
            String key = e.text("query") + "  <- " + e.callSite(callSites);
            repeats.merge(key, 1L, Long::sum);
            serverTime.merge(key, e.durationNanos(), Long::sum);
        }
        Map.Entry<String, Long> top = Events.top(repeats, 1).get(0);
        long limit = number(p, REPEATS);
        if (top.getValue() < limit) {
            return ok(p, "No statement was sent " + limit + " times or more from one place.");
        }
        return result(p, WARNING, top.getValue() + " executions of one statement from one place: " + top.getKey() + " ("
                + ms(serverTime.get(top.getKey())) + " of server time, plus a round trip each).",
                "One statement per item of a list (the N+1 pattern) costs a round trip each; the total grows with the data.",
                "Fetch the items in one statement (IN (...), a join, or a batch) in the code named.");
    }
}
