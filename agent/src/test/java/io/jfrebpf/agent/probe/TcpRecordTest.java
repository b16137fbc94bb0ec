package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jfrebpf.events.TcpConnectionEvent;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class TcpRecordTest {
    @Test
    void addressesAsJavaCodeSeesThem() throws Exception {
        assertEquals("127.0.0.1", format(TcpRecord.AF_INET, new byte[] {127, 0, 0, 1}));
        assertEquals("::1", format(TcpRecord.AF_INET6, InetAddress.getByName("::1").getAddress()));
        assertEquals("::", format(TcpRecord.AF_INET6, new byte[16]));
        // a dual-stack socket talking IPv4 (Java's default): ::ffff:10.1.2.3
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 10;
        mapped[13] = 1;
        mapped[14] = 2;
        mapped[15] = 3;
        assertEquals("10.1.2.3", format(TcpRecord.AF_INET6, mapped));
        // RFC 5952: the longest zero run is shortened, the first of equal ones, a single zero group is not
        assertEquals("2001:db8::1", format(TcpRecord.AF_INET6, InetAddress.getByName("2001:db8:0:0:0:0:0:1").getAddress()));
        assertEquals("2001:db8:0:1:1:1:1:1", format(TcpRecord.AF_INET6, InetAddress.getByName("2001:db8:0:1:1:1:1:1").getAddress()));
        assertEquals("2001::1:0:0:1", format(TcpRecord.AF_INET6, InetAddress.getByName("2001:0:0:0:1:0:0:1").getAddress()));
        assertEquals("fe80::", format(TcpRecord.AF_INET6, InetAddress.getByName("fe80::").getAddress()));
        assertEquals("family 1", format(1, new byte[4]));
    }

    @Test
    void aCloseRecordDecodesIntoTheConnectionEvent() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(TcpRecord.SIZE, 8);
            r.set(ValueLayout.JAVA_INT, TcpRecord.KIND, TcpRecord.CLOSE);
            r.set(ValueLayout.JAVA_LONG, TcpRecord.SOCK, 0xffff8880_12345678L);
            r.set(ValueLayout.JAVA_INT, TcpRecord.RETRANSMITS, 3);
            r.set(ValueLayout.JAVA_SHORT, TcpRecord.ENDPOINTS + TcpRecord.FAMILY, (short) TcpRecord.AF_INET);
            r.set(ValueLayout.JAVA_SHORT, TcpRecord.ENDPOINTS + TcpRecord.LOCAL_PORT, (short) 54321);
            r.set(ValueLayout.JAVA_SHORT, TcpRecord.ENDPOINTS + TcpRecord.REMOTE_PORT, (short) 443);
            MemorySegment.copy(new byte[] {10, 0, 0, 1}, 0, r, ValueLayout.JAVA_BYTE, TcpRecord.ENDPOINTS + TcpRecord.LOCAL_ADDR, 4);
            MemorySegment.copy(new byte[] {10, 0, 0, 2}, 0, r, ValueLayout.JAVA_BYTE, TcpRecord.ENDPOINTS + TcpRecord.REMOTE_ADDR, 4);
            r.set(ValueLayout.JAVA_LONG, TcpRecord.BYTES_SENT, 10_000);
            r.set(ValueLayout.JAVA_LONG, TcpRecord.BYTES_RECEIVED, 3_000_000_000L);
            r.set(ValueLayout.JAVA_INT, TcpRecord.SEGMENTS_OUT, -1); // u32 max
            r.set(ValueLayout.JAVA_INT, TcpRecord.SEGMENTS_IN, 7);
            r.set(ValueLayout.JAVA_INT, TcpRecord.SRTT_US, 250);
            r.set(ValueLayout.JAVA_INT, TcpRecord.DIRECTION, TcpRecord.ACCEPTED);

            TcpRecord decoded = TcpRecord.decode(r);
            assertEquals(0xffff8880_12345678L, decoded.sock());
            TcpConnectionEvent e = TcpProbe.connectionEvent(decoded, false);
            assertEquals("10.0.0.1", e.localAddress);
            assertEquals(54321, e.localPort, "ports are unsigned");
            assertEquals("10.0.0.2", e.remoteAddress);
            assertEquals(443, e.remotePort);
            assertEquals("accepted", e.direction);
            assertEquals(10_000, e.bytesSent);
            assertEquals(3_000_000_000L, e.bytesReceived);
            assertEquals(4_294_967_295L, e.segmentsOut);
            assertEquals(7, e.segmentsIn);
            assertEquals(3, e.retransmits);
            assertEquals(250, e.smoothedRtt);
        }
    }

    @Test
    void connectErrorsAndStates() {
        assertNull(TcpProbe.errorName(0));
        assertEquals("ECONNREFUSED", TcpProbe.errorName(111));
        assertEquals("ETIMEDOUT", TcpProbe.errorName(110));
        assertEquals("closed before established", TcpProbe.errorName(TcpRecord.ERROR_CLOSED_BEFORE_ESTABLISHED));
        assertEquals("ESTABLISHED", TcpRecord.stateName(1));
        assertEquals("SYN_SENT", TcpRecord.stateName(2));
        assertEquals("FIN_WAIT1", TcpRecord.stateName(4));
        assertEquals("state 99", TcpRecord.stateName(99));
        assertEquals("outbound", TcpRecord.directionName(TcpRecord.OUTBOUND));
    }

    private static String format(int family, byte[] address) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = arena.allocate(TcpRecord.ENDPOINTS_SIZE);
            MemorySegment.copy(address, 0, e, ValueLayout.JAVA_BYTE, TcpRecord.LOCAL_ADDR, address.length);
            return TcpRecord.address(e, TcpRecord.LOCAL_ADDR, family);
        }
    }
}
