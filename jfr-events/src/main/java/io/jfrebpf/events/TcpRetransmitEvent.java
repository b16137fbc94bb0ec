package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Unsigned;

/** One TCP retransmission on a connection of the traced JVM. */
@Name("ebpf.TcpRetransmit")
@FromProbe("tcp")
@Label("TCP Retransmit")
@Description("A TCP segment this JVM's connection sent again; thread and stack (Java and native frames) are those of the socket's last writer (captured at its writes, at most every 100 ms per socket), since retransmissions happen in the kernel's timers and softirqs")
@Category({"eBPF", "Network"})
public final class TcpRetransmitEvent extends EbpfEvent {
    @Label("Local Address")
    @Description("IPv4 or IPv6 address (IPv4-mapped IPv6 addresses are shown as IPv4, as Java shows them)")
    public String localAddress;

    @Label("Local Port")
    public int localPort;

    @Label("Remote Address")
    public String remoteAddress;

    @Label("Remote Port")
    public int remotePort;

    @Label("State")
    @Description("TCP state of the connection, e.g. ESTABLISHED, SYN_SENT, FIN_WAIT1")
    public String state;

    @Label("Segments")
    @Description("Segments resent by this retransmission: one buffer can carry several (segmentation offload)")
    @Unsigned
    public long segments;

    @Label("Retransmits So Far")
    @Description("Segments retransmitted on this connection up to and including this one")
    @Unsigned
    public long retransmits;
}
