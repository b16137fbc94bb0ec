package io.jfrebpf.jmc;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.util.List;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/** TCP connects that took long or failed: a slow or unreachable peer, paid by the thread that connects. */
public final class SlowConnectRule extends EbpfRule {
    static final TypedPreference<IQuantity> THRESHOLD = time("tcp.connect.slow", "Slow TCP connect",
            "A connect taking at least this long is reported", 100);

    public SlowConnectRule() {
        super("SlowConnect", "Slow or Failed TCP Connects", List.of(EventNames.TCP_CONNECT), THRESHOLD, APP_PACKAGES);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        CallSites callSites = callSites(p);
        List<Events.Event> connects = Events.of(items, EventNames.TCP_CONNECT);
        if (connects.isEmpty()) {
            return notApplicable(p, "No " + EventNames.TCP_CONNECT + " events: the JVM opened no connection, or probes=tcp was off.");
        }
        long threshold = nanos(p, THRESHOLD);
        List<Events.Event> bad = connects.stream().filter(e -> e.text("error") != null || e.durationNanos() >= threshold).toList();
        if (bad.isEmpty()) {
            return ok(p, "All " + connects.size() + " connects completed in less than " + ms(threshold) + ".");
        }
        Events.Event worst = bad.stream().max((a, b) -> Long.compare(a.durationNanos(), b.durationNanos())).orElseThrow();
        return result(p, WARNING, bad.size() + " of " + connects.size() + " connects took " + ms(threshold) + " or more or failed; the"
                + " slowest: " + ms(worst.durationNanos()) + " to " + worst.text("remoteAddress") + ":" + worst.number("remotePort")
                + (worst.text("error") != null ? " (" + worst.text("error") + ")" : "") + " from " + worst.callSite(callSites) + ".",
                "A connect blocks its thread until the handshake completes: a slow network path, a peer that does not accept,"
                        + " or a firewall dropping SYNs (retransmitted after 1, 2, 4... s).",
                "Pool connections, set connect timeouts, and check the peer named.");
    }
}
