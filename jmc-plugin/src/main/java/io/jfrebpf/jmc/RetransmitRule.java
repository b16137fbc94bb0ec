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
 * Retransmitted segments, with the code that wrote to the connection: lost packets the
 * application paid for. A warning from a share of the segments sent (a few retransmissions
 * happen on any busy host, loopback included: tail-loss probes, a timer firing late), else
 * information.
 */
public final class RetransmitRule extends EbpfRule {
    static final TypedPreference<IQuantity> PER_MILLE = count("tcp.retransmit.permille", "TCP retransmissions",
            "Retransmitted segments per thousand sent (on the recorded connections) from which the rule warns", 10);

    public RetransmitRule() {
        super("Retransmits", "TCP Retransmissions", List.of(EventNames.TCP_CONNECTION), PER_MILLE, APP_PACKAGES);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        CallSites callSites = callSites(p);
        List<Events.Event> connections = Events.of(items, EventNames.TCP_CONNECTION);
        if (connections.isEmpty()) {
            return notApplicable(p, NO_TCP_CONNECTIONS);
        }
        List<Events.Event> retransmits = Events.of(items, EventNames.TCP_RETRANSMIT);
        if (retransmits.isEmpty()) {
            return ok(p, "No segment was retransmitted.");
        }
        Map<String, Long> bySite = new HashMap<>();
        long segments = 0;
        for (Events.Event e : retransmits) {
            long n = Math.max(1, e.number("segments"));
            segments += n;
            bySite.merge(e.callSite(callSites) + " to " + e.text("remoteAddress") + ":" + e.number("remotePort"), n, Long::sum);
        }
        Map.Entry<String, Long> top = Events.top(bySite, 1).get(0);
        long sent = connections.stream().mapToLong(e -> e.number("segmentsOut")).sum();
        boolean warn = sent == 0 || segments * 1000 >= sent * number(p, PER_MILLE);
        String share = sent == 0 ? "" : String.format(java.util.Locale.ROOT, " (%.2f%% of the %d segments sent on the recorded connections)",
                segments * 100.0 / sent, sent);
        return result(p, warn ? WARNING : INFO, segments + " segments retransmitted in " + retransmits.size() + " retransmissions"
                + share + "; most by " + top.getKey() + " (" + top.getValue() + ").",
                "Each retransmission waited for a timeout or duplicate acknowledgements: the writing thread's requests were"
                        + " slowed by packet loss on the path to that peer.",
                "Check the network path (interface errors, congestion, MTU) to the peer named; consider fewer, larger writes.");
    }
}
