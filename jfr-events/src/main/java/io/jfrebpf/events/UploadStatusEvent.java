package io.jfrebpf.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Unsigned;

/**
 * What upload= achieved so far: the live profiles pushed to a Pyroscope server, those retried, and
 * every loss by its cause. Written with each slice's probe statuses and at the end.
 */
@Name("ebpf.UploadStatus")
@FromProbe("agent")
@Label("Upload Status")
@Description("Profiles pushed to the Pyroscope server of upload= so far: taken, retried, and lost by cause (never credentials)")
@Category({"eBPF", "Agent"})
@StackTrace(false)
public final class UploadStatusEvent extends EbpfEvent {
    @Label("Server")
    @Description("The server's base URL, without credentials")
    public String server;

    @Label("Profiles Sent")
    @Description("Profiles the server took (HTTP 2xx)")
    @Unsigned
    public long sent;

    @Label("Bytes Sent")
    @Description("Request bodies the server took")
    @DataAmount
    @Unsigned
    public long sentBytes;

    @Label("Retries")
    @Description("Requests sent again after a failure the server means as passing (HTTP 408, 429, 5xx) or a network error")
    @Unsigned
    public long retries;

    @Label("Rejected")
    @Description("Profiles the server refused for good (any other HTTP 4xx, e.g. 401 credentials, 422 invalid): not sent again")
    @Unsigned
    public long rejected;

    @Label("Expired")
    @Description("Profiles given up: every attempt failed, or too old for the server's ingestion window")
    @Unsigned
    public long expired;

    @Label("Overflowed")
    @Description("Profiles dropped, the oldest first, because too many waited for a server that did not take them")
    @Unsigned
    public long overflowed;

    @Label("Unsent")
    @Description("Profiles still waiting when the recording ended (its end is not held longer than a few seconds)")
    @Unsigned
    public long unsent;

    @Label("Lost")
    @Description("Profiles lost in all: rejected + expired + overflowed + unsent")
    @Unsigned
    public long lost;

    @Label("Folded Events")
    @Description("Events whose stack was replaced by one placeholder frame because their period already held as many different stacks as an upload takes (their values are kept)")
    @Unsigned
    public long foldedEvents;

    @Label("Last Problem")
    @Description("The last refusal or failure, as the server or the network reported it")
    public String lastProblem;
}
