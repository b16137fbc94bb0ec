package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** One outbound TCP connect of the traced JVM, from connect() to established or to its error. */
@Name("ebpf.TcpConnect")
@FromProbe("tcp")
@Label("TCP Connect")
@Description("An outbound TCP connection attempt of this JVM: duration from connect() to established (blocking or not), or to the error; thread and stack of the caller")
@Category({"eBPF", "Network"})
public final class TcpConnectEvent extends EbpfEvent {
    @Label("Local Address")
    @Description("IPv4 or IPv6 address (IPv4-mapped IPv6 addresses are shown as IPv4, as Java shows them)")
    public String localAddress;

    @Label("Local Port")
    public int localPort;

    @Label("Remote Address")
    public String remoteAddress;

    @Label("Remote Port")
    public int remotePort;

    @Label("Error")
    @Description("errno name when the connect failed (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH...), 'closed before established' when the application gave up first (e.g. a connect timeout), null on success")
    public String error;
}
