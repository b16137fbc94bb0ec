package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.bpf.PostgresLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Mirror of {@code struct pg_query_record} (sent without the unused end of its text) and {@code struct pg_backend} (bpf/postgres.h), and
 * the bytes of a {@code pg_conns} key (a {@code struct tcp_endpoints}: our end of a connection).
 */
public record PostgresRecord(EventHeader header, long lockWaitNs, int backendPid, int protocol, int flags, String query) {
    public static final long SIZE = PostgresLayout.PgQueryRecord.SIZE;
    public static final long HEADER = PostgresLayout.PgQueryRecord.HEADER;
    public static final long LOCK_WAIT_NS = PostgresLayout.PgQueryRecord.LOCK_WAIT_NS;
    public static final long BACKEND_PID = PostgresLayout.PgQueryRecord.BACKEND_PID;
    public static final long PROTOCOL = PostgresLayout.PgQueryRecord.PROTOCOL;
    public static final long FLAGS = PostgresLayout.PgQueryRecord.FLAGS;
    public static final long QUERY_LEN = PostgresLayout.PgQueryRecord.QUERY_LEN;
    public static final long QUERY = PostgresLayout.PgQueryRecord.QUERY;
    public static final int QUERY_MAX = (int) PostgresLayout.PG_QUERY_MAX;

    public static final long BACKEND_SIZE = PostgresLayout.PgBackend.SIZE;
    public static final long BACKEND_DEBUG_QUERY_STRING = PostgresLayout.PgBackend.DEBUG_QUERY_STRING;

    public static final int PROTOCOL_SIMPLE = (int) PostgresLayout.PG_PROTOCOL_SIMPLE;
    public static final int PROTOCOL_EXTENDED = (int) PostgresLayout.PG_PROTOCOL_EXTENDED;
    public static final int FLAG_TRUNCATED = (int) PostgresLayout.PG_FLAG_TRUNCATED;
    public static final int FLAG_FAILED = (int) PostgresLayout.PG_FLAG_FAILED;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    public static PostgresRecord decode(MemorySegment record) {
        Records.requireSize(record, QUERY, "pg_query_record"); // sent with its text only
        BpfBytes r = BpfBytes.of(record, QUERY + QUERY_MAX);
        long room = Math.min(r.size() - QUERY, QUERY_MAX - 1);
        int length = (int) Math.clamp(Integer.toUnsignedLong(r.u32(QUERY_LEN)), 0, room);
        return new PostgresRecord(EventHeader.decode(r), r.u64(LOCK_WAIT_NS), r.u32(BACKEND_PID), r.u32(PROTOCOL), r.u32(FLAGS),
                r.cString(QUERY, length));
    }

    public boolean truncated() {
        return (flags & FLAG_TRUNCATED) != 0;
    }

    public boolean failed() {
        return (flags & FLAG_FAILED) != 0;
    }

    public static String protocolName(int protocol) {
        return switch (protocol) {
            case PROTOCOL_SIMPLE -> "simple";
            case PROTOCOL_EXTENDED -> "extended";
            default -> "unknown " + protocol;
        };
    }

    /** A fresh {@code pg_backend} value: only the address of the backend's debug_query_string set. */
    public static byte[] backend(long debugQueryStringAddress) {
        return ByteBuffer.allocate((int) BACKEND_SIZE).order(ByteOrder.nativeOrder())
                .putLong((int) BACKEND_DEBUG_QUERY_STRING, debugQueryStringAddress).array();
    }

    /**
     * A {@code pg_conns} key: our end of a connection as the kernel's socket reads it. IPv4
     * sockets hold 4-byte addresses; Java's dual-stack sockets are AF_INET6 with IPv4-mapped
     * addresses, all 16 bytes.
     */
    public static byte[] connectionKey(int family, byte[] localAddress, int localPort, byte[] remoteAddress, int remotePort) {
        int width = family == TcpRecord.AF_INET ? 4 : 16;
        if (localAddress.length != width || remoteAddress.length != width) {
            throw new IllegalArgumentException("addresses of " + width + " bytes expected for family " + family);
        }
        ByteBuffer b = ByteBuffer.allocate((int) TcpRecord.ENDPOINTS_SIZE).order(ByteOrder.nativeOrder());
        b.put((int) TcpRecord.LOCAL_ADDR, localAddress);
        b.put((int) TcpRecord.REMOTE_ADDR, remoteAddress);
        b.putShort((int) TcpRecord.LOCAL_PORT, (short) localPort);
        b.putShort((int) TcpRecord.REMOTE_PORT, (short) remotePort);
        b.putShort((int) TcpRecord.FAMILY, (short) family);
        return b.array();
    }
}
