package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/**
 * One statement run by a PostgreSQL backend on this host that serves one of this JVM's
 * connections, timed by the server through its USDT probes; thread and stack = the Java code
 * that sent it.
 */
@Name("ebpf.PostgresQuery")
@FromProbe("postgres")
@Label("PostgreSQL Query")
@Description("A statement a colocated PostgreSQL server ran for this JVM, with the server's duration; thread and stack of the Java code that sent it (the last send on that connection before the statement completed)")
@Category({"eBPF", "Database"})
public final class PostgresQueryEvent extends EbpfEvent {
    @Label("Query")
    @Description("The statement's text as the server received it; literals replaced by ? unless postgres.redact=false; ends with … when cut at 2047 bytes")
    public String query;

    @Label("Backend PID")
    @Description("The PostgreSQL backend process that ran it")
    public int backendPid;

    @Label("Database")
    @Description("The backend's database, from its process title (null when the server does not update it)")
    public String database;

    @Label("Client Port")
    @Description("This JVM's local port of the connection (matches ebpf.TcpConnection.localPort)")
    public int clientPort;

    @Label("Protocol")
    @Description("'extended' (Parse/Bind/Execute, as JDBC sends: duration from the parse or plan to the end of execution) or 'simple' (one Query message)")
    public String protocol;

    @Label("Lock Wait")
    @Description("Time the backend waited for heavyweight locks during the statement")
    @Timespan(Timespan.NANOSECONDS)
    public long lockWait;

    @Label("Failed")
    @Description("The statement ended in an error (its transaction aborted): duration until the abort")
    public boolean failed;
}
