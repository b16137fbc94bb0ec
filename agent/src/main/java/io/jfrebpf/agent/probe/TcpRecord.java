package io.jfrebpf.agent.probe;

import io.jfrebpf.bpf.TcpLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Mirror of {@code struct tcp_record} and {@code struct tcp_endpoints} (bpf/tcp.h). */
public record TcpRecord(EventHeader header, long sock, long openNs, int kind, int error, int state, long retransmits,
        Endpoints endpoints, long bytesSent, long bytesReceived, long segmentsOut, long segmentsIn, long srttMicros,
        int direction) {
    public static final long SIZE = TcpLayout.TcpRecord.SIZE;
    public static final long HEADER = TcpLayout.TcpRecord.HEADER;
    public static final long SOCK = TcpLayout.TcpRecord.SOCK;
    public static final long OPEN_NS = TcpLayout.TcpRecord.OPEN_NS;
    public static final long KIND = TcpLayout.TcpRecord.KIND;
    public static final long ERROR = TcpLayout.TcpRecord.ERROR;
    public static final long STATE = TcpLayout.TcpRecord.STATE;
    public static final long RETRANSMITS = TcpLayout.TcpRecord.RETRANSMITS;
    public static final long ENDPOINTS = TcpLayout.TcpRecord.ENDPOINTS;
    public static final long BYTES_SENT = TcpLayout.TcpRecord.BYTES_SENT;
    public static final long BYTES_RECEIVED = TcpLayout.TcpRecord.BYTES_RECEIVED;
    public static final long SEGMENTS_OUT = TcpLayout.TcpRecord.SEGMENTS_OUT;
    public static final long SEGMENTS_IN = TcpLayout.TcpRecord.SEGMENTS_IN;
    public static final long SRTT_US = TcpLayout.TcpRecord.SRTT_US;
    public static final long DIRECTION = TcpLayout.TcpRecord.DIRECTION;

    public static final long ENDPOINTS_SIZE = TcpLayout.TcpEndpoints.SIZE;
    public static final long LOCAL_ADDR = TcpLayout.TcpEndpoints.LOCAL_ADDR;
    public static final long REMOTE_ADDR = TcpLayout.TcpEndpoints.REMOTE_ADDR;
    public static final long LOCAL_PORT = TcpLayout.TcpEndpoints.LOCAL_PORT;
    public static final long REMOTE_PORT = TcpLayout.TcpEndpoints.REMOTE_PORT;
    public static final long FAMILY = TcpLayout.TcpEndpoints.FAMILY;

    public static final int CONNECT = (int) TcpLayout.TCP_RECORD_CONNECT;
    public static final int ACCEPT = (int) TcpLayout.TCP_RECORD_ACCEPT;
    public static final int CLOSE = (int) TcpLayout.TCP_RECORD_CLOSE;
    public static final int RETRANSMIT = (int) TcpLayout.TCP_RECORD_RETRANSMIT;
    public static final int OPEN = (int) TcpLayout.TCP_RECORD_OPEN;
    public static final int ERROR_CLOSED_BEFORE_ESTABLISHED = (int) TcpLayout.TCP_ERROR_CLOSED_BEFORE_ESTABLISHED;
    public static final int OUTBOUND = (int) TcpLayout.TCP_OUTBOUND;
    public static final int ACCEPTED = (int) TcpLayout.TCP_ACCEPTED;

    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** Both ends of a connection: addresses as Java prints them, ports. */
    public record Endpoints(String localAddress, int localPort, String remoteAddress, int remotePort, int family) {
    }

    public static TcpRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "tcp_record");
        return new TcpRecord(EventHeader.decode(record), record.get(U64, SOCK), record.get(U64, OPEN_NS),
                record.get(U32, KIND), record.get(U32, ERROR), record.get(U32, STATE),
                Integer.toUnsignedLong(record.get(U32, RETRANSMITS)), endpoints(record.asSlice(ENDPOINTS, ENDPOINTS_SIZE)),
                record.get(U64, BYTES_SENT), record.get(U64, BYTES_RECEIVED),
                Integer.toUnsignedLong(record.get(U32, SEGMENTS_OUT)), Integer.toUnsignedLong(record.get(U32, SEGMENTS_IN)),
                Integer.toUnsignedLong(record.get(U32, SRTT_US)), record.get(U32, DIRECTION));
    }

    static Endpoints endpoints(MemorySegment e) {
        int family = Short.toUnsignedInt(e.get(U16, FAMILY));
        return new Endpoints(address(e, LOCAL_ADDR, family), Short.toUnsignedInt(e.get(U16, LOCAL_PORT)),
                address(e, REMOTE_ADDR, family), Short.toUnsignedInt(e.get(U16, REMOTE_PORT)), family);
    }

    /**
     * The address as Java code sees it: IPv4 dotted, IPv6 in its short form (RFC 5952), and an
     * IPv4-mapped IPv6 address (a dual-stack socket talking IPv4, Java's default) as IPv4.
     */
    static String address(MemorySegment e, long offset, int family) {
        int length = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
        if (length == 0) {
            return "family " + family;
        }
        byte[] bytes = e.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE);
        try {
            InetAddress a = InetAddress.getByAddress(bytes); // mapped IPv6 comes back as Inet4Address
            return a.getAddress().length == 4 ? a.getHostAddress() : ipv6(a.getAddress());
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    /** RFC 5952: lower-case hex groups, the longest run of two or more zero groups as "::". */
    static String ipv6(byte[] a) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((a[2 * i] & 0xff) << 8) | (a[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder s = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                s.append("::");
                i += bestLength - 1;
                continue;
            }
            if (!s.isEmpty() && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(groups[i]));
        }
        return s.toString();
    }

    /** outbound, accepted. */
    public static String directionName(int direction) {
        return switch (direction) {
            case OUTBOUND -> "outbound";
            case ACCEPTED -> "accepted";
            default -> "direction " + direction;
        };
    }

    private static final String[] STATES = {null, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
        "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE"};

    /** The TCP state's name as ss and the kernel's tracepoints print it. */
    public static String stateName(int state) {
        return state > 0 && state < STATES.length ? STATES[state] : "state " + state;
    }
}
