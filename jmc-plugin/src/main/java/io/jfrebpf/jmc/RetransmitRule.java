package io.jfrebpf.jmc;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/** Retransmitted segments, with the code that wrote to the connection: lost packets the application paid for. */
public final class RetransmitRule extends EbpfRule {
    public RetransmitRule() {
        super("Retransmits", "TCP Retransmissions");
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        if (Events.of(items, "ebpf.TcpConnection").isEmpty() && Events.of(items, "ebpf.TcpConnect").isEmpty()) {
            return notApplicable(p, "No TCP events: the JVM had no connection, or probes=tcp was off.");
        }
        List<Events.Event> retransmits = Events.of(items, "ebpf.TcpRetransmit");
        if (retransmits.isEmpty()) {
            return ok(p, "No segment was retransmitted.");
        }
        Map<String, Long> bySite = new HashMap<>();
        long segments = 0;
        for (Events.Event e : retransmits) {
            long n = Math.max(1, e.number("segments"));
            segments += n;
            bySite.merge(e.callSite() + " to " + e.text("remoteAddress") + ":" + e.number("remotePort"), n, Long::sum);
        }
        Map.Entry<String, Long> top = Events.top(bySite, 1).get(0);
        return result(p, WARNING, segments + " segments retransmitted in " + retransmits.size() + " retransmissions; most by "
                + top.getKey() + " (" + top.getValue() + ").",
                "Each retransmission waited for a timeout or duplicate acknowledgements: the writing thread's requests were"
                        + " slowed by packet loss on the path to that peer.",
                "Check the network path (interface errors, congestion, MTU) to the peer named; consider fewer, larger writes.");
    }
}
