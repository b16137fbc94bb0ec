package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.BpfProgram;
import io.jfrebpf.agent.os.Errno;
import io.jfrebpf.agent.os.KernelBtf;
import io.jfrebpf.bpf.TcpObject;
import io.jfrebpf.events.TcpConnectEvent;
import io.jfrebpf.events.TcpConnectionEvent;
import io.jfrebpf.events.TcpRetransmitEvent;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tcp}: the TCP connections of our process — {@code ebpf.TcpConnect} (connect latency or
 * error), {@code ebpf.TcpConnection} (lifetime, bytes, segments, retransmits, RTT; at the close,
 * and at the end for those still open) and {@code ebpf.TcpRetransmit} — each with the Java
 * thread and stack that opened the connection or last wrote to it (bpf/tcp.bpf.c says how).
 *
 * <p>The opener of a connection is resolved when it opens and kept here by socket until the
 * close: by then the thread may have ended and its stack left the kernel's LRU map.
 */
public final class TcpProbe extends BpfProbe {
    static final List<String> ACCEPT_SYMBOLS = List.of("accept", "accept4");
    static final List<String> TRACEPOINT_PROGRAMS =
            List.of(TcpObject.Programs.INET_SOCK_SET_STATE, TcpObject.Programs.SOCK_SEND_LENGTH,
                    TcpObject.Programs.TCP_RETRANSMIT_SKB);
    /** As many as the kernel's map of connections holds. */
    static final int MAX_OPEN_CONNECTIONS = 65536;
    private static final int RECORD = (int) TcpRecord.SIZE;

    private final Map<Long, Recorder.Origin> openers = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Recorder.Origin> eldest) {
            if (size() > MAX_OPEN_CONNECTIONS) {
                forgottenOpeners++;
                return true;
            }
            return false;
        }
    };
    static final String WRITER_TRACEPOINT = TcpObject.Programs.SOCK_SEND_LENGTH; // the program is named after its tracepoint
    private long forgottenOpeners;
    private boolean lastWriter;
    /** uprobe_multi for accept/accept4 (Linux 6.6+): one link, one grace period at detach. */
    private boolean multi;
    static final String ACCEPT_PROGRAM = TcpObject.Programs.URETPROBE_ACCEPT;
    private String attachedAs = "";

    public TcpProbe() {
        super("tcp", TcpObject.OBJECT, TcpObject.Maps.EVENTS);
    }

    /**
     * The sock_send_length tracepoint came with Linux 6.5: on older kernels its program is not
     * loaded (a tp_btf program whose tracepoint is missing fails the whole object), and
     * retransmissions are attributed to the thread and stack that opened the connection.
     */
    @Override
    protected void configure(BpfObject object) throws BpfException {
        try {
            lastWriter = KernelBtf.hasTracepoint(WRITER_TRACEPOINT);
        } catch (IOException e) {
            Log.debug("tcp: cannot read the kernel's BTF (%s); loading %s anyway", e.getMessage(), WRITER_TRACEPOINT);
            lastWriter = true;
        }
        object.program(WRITER_TRACEPOINT).setAutoload(lastWriter);
        multi = LibcFunctions.uprobeMulti();
        if (multi) {
            object.program(ACCEPT_PROGRAM).setExpectedAttachType(BpfProgram.UPROBE_MULTI);
        }
    }

    @Override
    protected void attach(BpfObject object) throws Exception {
        for (String name : TRACEPOINT_PROGRAMS) {
            if (lastWriter || !name.equals(WRITER_TRACEPOINT)) {
                keep(object.program(name).attach());
            }
        }
        Path libc = LibcFunctions.libc();
        Map<Long, String> accept = LibcFunctions.offsets(libc, ACCEPT_SYMBOLS);
        if (accept.isEmpty()) {
            throw new IOException(libc + " exports neither accept nor accept4");
        }
        int pid = context.pid();
        try {
            if (multi) {
                keep(object.program(ACCEPT_PROGRAM).attachUretprobeMulti(pid, libc.toString(),
                        offsets(accept)));
            } else {
                for (long offset : accept.keySet()) {
                    keep(object.program(ACCEPT_PROGRAM).attachUprobe(true, pid, libc.toString(), offset));
                }
            }
        } catch (BpfException e) {
            throw LibcFunctions.explained(e, "tcp", "");
        }
        attachedAs = "tp_btf " + (lastWriter ? String.join(", ", TRACEPOINT_PROGRAMS)
                : String.join(", ", without(TRACEPOINT_PROGRAMS, WRITER_TRACEPOINT))
                        + " (this kernel has no " + WRITER_TRACEPOINT + ": retransmits go to the opener's stack)")
                + "; " + (multi ? "uretprobe_multi" : "uretprobes") + " for pid " + pid + " on " + libc + " (" + String.join(", ", accept.values()) + ")";
        Log.debug("tcp: %s", attachedAs);
        context.connects().markProducing();
    }

    @Override
    public String attachedAs() {
        return attachedAs;
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        TcpRecord r = TcpRecord.decode(segment);
        EventHeader h = r.header();
        switch (r.kind()) {
            case TcpRecord.CONNECT -> {
                Recorder.Origin opener = context.recorder().origin(h);
                if (r.error() == 0) {
                    openers.put(r.sock(), opener);
                }
                emit(connectEvent(r), h.timestampNs(), h.durationNs(), opener);
                if (r.error() == 0) {
                    context.connects().connected(r.endpoints());
                }
            }
            case TcpRecord.ACCEPT -> openers.put(r.sock(), context.recorder().origin(h));
            case TcpRecord.CLOSE -> {
                Recorder.Origin opener = openers.remove(r.sock());
                emit(connectionEvent(r, false), h.timestampNs(), h.durationNs(),
                        opener != null ? opener : context.recorder().origin(h));
            }
            case TcpRecord.RETRANSMIT -> emit(retransmitEvent(r), h);
            case 0 -> {
                // the warm-up's empty record
            }
            default -> Log.debug("tcp: record of unknown kind %d ignored", r.kind());
        }
    }

    /** The connections still open: read from the kernel's sockets by the iterator, once. */
    @Override
    public void finish(long nowNs) {
        if (object == null) {
            return;
        }
        byte[] bytes;
        try {
            bytes = object.program(TcpObject.Programs.STILL_OPEN).runIterator(MAX_OPEN_CONNECTIONS * RECORD);
        } catch (BpfException | RuntimeException e) {
            Log.warn("tcp: the connections still open could not be listed (%s); they are not reported", e.getMessage());
            return;
        }
        int count = bytes.length / RECORD;
        MemorySegment all = MemorySegment.ofArray(bytes); // the decoders read unaligned: a heap segment will do
        for (int i = 0; i < count; i++) {
            TcpRecord r = TcpRecord.decode(all.asSlice((long) i * RECORD, RECORD));
            Recorder.Origin opener = openers.remove(r.sock());
            EventHeader h = r.header();
            emit(connectionEvent(r, true), h.timestampNs(), h.durationNs(),
                    opener != null ? opener : context.recorder().origin(h));
        }
        Log.debug("tcp: %d connections still open at the end; %d openers forgotten (more than %d open)", count,
                forgottenOpeners, MAX_OPEN_CONNECTIONS);
    }

    static TcpConnectEvent connectEvent(TcpRecord r) {
        TcpConnectEvent e = new TcpConnectEvent();
        TcpRecord.Endpoints p = r.endpoints();
        e.localAddress = p.localAddress();
        e.localPort = p.localPort();
        e.remoteAddress = p.remoteAddress();
        e.remotePort = p.remotePort();
        e.error = errorName(r.error());
        return e;
    }

    static String errorName(int error) {
        if (error == 0) {
            return null;
        }
        if (error == TcpRecord.ERROR_CLOSED_BEFORE_ESTABLISHED) {
            return "closed before established";
        }
        return Errno.name(error);
    }

    static TcpConnectionEvent connectionEvent(TcpRecord r, boolean stillOpen) {
        TcpConnectionEvent e = new TcpConnectionEvent();
        TcpRecord.Endpoints p = r.endpoints();
        e.localAddress = p.localAddress();
        e.localPort = p.localPort();
        e.remoteAddress = p.remoteAddress();
        e.remotePort = p.remotePort();
        e.direction = TcpRecord.directionName(r.direction());
        e.bytesSent = r.bytesSent();
        e.bytesReceived = r.bytesReceived();
        e.segmentsOut = r.segmentsOut();
        e.segmentsIn = r.segmentsIn();
        e.retransmits = r.retransmits();
        e.smoothedRtt = r.srttMicros();
        e.stillOpen = stillOpen;
        return e;
    }

    static TcpRetransmitEvent retransmitEvent(TcpRecord r) {
        TcpRetransmitEvent e = new TcpRetransmitEvent();
        TcpRecord.Endpoints p = r.endpoints();
        e.localAddress = p.localAddress();
        e.localPort = p.localPort();
        e.remoteAddress = p.remoteAddress();
        e.remotePort = p.remotePort();
        e.state = TcpRecord.stateName(r.state());
        e.segments = r.segmentsOut();
        e.retransmits = r.retransmits();
        return e;
    }

    /* Loops, not streams: each stream and lambda costs the JVM spun classes at start-up. */

    private static long[] offsets(Map<Long, String> functions) {
        long[] offsets = new long[functions.size()];
        int n = 0;
        for (long offset : functions.keySet()) {
            offsets[n++] = offset;
        }
        return offsets;
    }

    private static List<String> without(List<String> names, String left) {
        List<String> kept = new ArrayList<>(names.size());
        for (String n : names) {
            if (!n.equals(left)) {
                kept.add(n);
            }
        }
        return kept;
    }
}
