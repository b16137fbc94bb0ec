package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;
import jdk.jfr.Unsigned;

/** One TCP connection of the traced JVM, reported when it closes or when the recording ends. */
@Name("ebpf.TcpConnection")
@FromProbe("tcp")
@Label("TCP Connection")
@Description("A TCP connection of this JVM, outbound or accepted, over its lifetime (duration): counters read from the socket at its close; thread and stack where it was opened (connect or accept)")
@Category({"eBPF", "Network"})
public final class TcpConnectionEvent extends EbpfEvent {
    @Label("Local Address")
    @Description("IPv4 or IPv6 address (IPv4-mapped IPv6 addresses are shown as IPv4, as Java shows them)")
    public String localAddress;

    @Label("Local Port")
    public int localPort;

    @Label("Remote Address")
    public String remoteAddress;

    @Label("Remote Port")
    public int remotePort;

    @Label("Direction")
    @Description("outbound (this JVM connected) or accepted (this JVM accepted it)")
    public String direction;

    @Label("Bytes Sent")
    @Description("Payload bytes sent, each counted once (retransmissions, SYN and FIN not counted)")
    @DataAmount
    @Unsigned
    public long bytesSent;

    @Label("Bytes Received")
    @Description("Payload bytes received (SYN and FIN not counted)")
    @DataAmount
    @Unsigned
    public long bytesReceived;

    @Label("Segments Out")
    @Description("Segments sent, including pure ACKs, the handshake and retransmissions")
    @Unsigned
    public long segmentsOut;

    @Label("Segments In")
    @Description("Segments received, including pure ACKs and the handshake")
    @Unsigned
    public long segmentsIn;

    @Label("Retransmits")
    @Description("Segments retransmitted over the connection's life")
    @Unsigned
    public long retransmits;

    @Label("Smoothed RTT")
    @Description("The kernel's smoothed round-trip time estimate at the close")
    @Timespan(Timespan.MICROSECONDS)
    public long smoothedRtt;

    @Label("Still Open")
    @Description("True when the connection was still open at the end of the recording: duration and counters up to then")
    public boolean stillOpen;
}
