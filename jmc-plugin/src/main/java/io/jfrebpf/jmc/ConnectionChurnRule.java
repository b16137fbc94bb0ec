package io.jfrebpf.jmc;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/** Many short connections to the same peer: a connection pool (or keep-alive) is missing. */
public final class ConnectionChurnRule extends EbpfRule {
    static final TypedPreference<IQuantity> CONNECTIONS = count("tcp.churn", "Connection churn",
            "At least this many short outbound connections to one peer are reported", 100);
    static final long SHORT_NS = 1_000_000_000L;

    public ConnectionChurnRule() {
        super("ConnectionChurn", "Connection Churn (Missing Pool)", List.of(EventNames.TCP_CONNECTION), CONNECTIONS, APP_PACKAGES);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        CallSites callSites = callSites(p);
        List<Events.Event> connections = Events.of(items, EventNames.TCP_CONNECTION);
        if (connections.isEmpty()) {
            return notApplicable(p, NO_TCP_CONNECTIONS);
        }
        Map<String, List<Long>> lifetimes = new HashMap<>();
        Map<String, Map<String, Long>> sites = new HashMap<>();
        for (Events.Event e : connections) {
            if (!"outbound".equals(e.text("direction")) || e.flag("stillOpen")) {
                continue;
            }
            String peer = e.text("remoteAddress") + ":" + e.number("remotePort");
            lifetimes.computeIfAbsent(peer, k -> new ArrayList<>()).add(e.durationNanos());
            sites.computeIfAbsent(peer, k -> new HashMap<>()).merge(e.callSite(callSites), 1L, Long::sum);
        }
        long limit = number(p, CONNECTIONS);
        for (Map.Entry<String, List<Long>> e : lifetimes.entrySet()) {
            List<Long> sorted = e.getValue().stream().sorted().toList();
            if (sorted.size() >= limit && sorted.get(sorted.size() / 2) < SHORT_NS) {
                return result(p, WARNING, sorted.size() + " connections to " + e.getKey() + ", living " + ms(sorted.get(sorted.size() / 2))
                        + " each at the median, opened from " + Events.topSite(sites.get(e.getKey())) + ".",
                        "A new connection per request pays a handshake (and TLS, and authentication) each time, and leaves sockets"
                                + " in TIME_WAIT behind.",
                        "Reuse connections: a pool (database), keep-alive (HTTP), or one long-lived connection.");
            }
        }
        return ok(p, "No peer got " + limit + " or more short connections.");
    }
}
