package io.jfrebpf.agent.os;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The socket tables as this kernel prints them: words of an address in CPU order, ports in hex. */
class ProcNetTcpTest {
    static final String TCP = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:D431 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 2147633 1 0000000000000000 100 0 0 10 0
               1: 0100007F:D431 0100007F:C342 01 00000000:00000000 00:00000000 00000000   101        0 2150001 1 0000000000000000 20 4 30 10 -1
               2: garbage line
            """;
    static final String TCP6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0000000000000000FFFF00000100007F:C342 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2150000 1 0000000000000000 20 4 30 10 -1
               1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0
            """;

    @Test
    void addressesArePrintedWordByWordInCpuOrder() {
        List<ProcNetTcp.Socket> v4 = ProcNetTcp.parse(TCP, ProcNetTcp.AF_INET);
        assertEquals(2, v4.size(), "the garbage line is skipped");
        ProcNetTcp.Socket listener = v4.get(0);
        assertArrayEquals(new byte[] {127, 0, 0, 1}, listener.localAddress());
        assertEquals(54321, listener.localPort());
        assertEquals(ProcNetTcp.LISTEN, listener.state());
        assertEquals(2147633, listener.inode());

        List<ProcNetTcp.Socket> v6 = ProcNetTcp.parse(TCP6, ProcNetTcp.AF_INET6);
        ProcNetTcp.Socket client = v6.get(0);
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 127, 0, 0, 1}, client.localAddress());
        assertEquals(49986, client.localPort());
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, v6.get(1).localAddress(), "::1");
    }

    @Test
    void aDualStackClientsPeerIsAnIpv4ServerSocket() {
        ProcNetTcp.Socket server = ProcNetTcp.parse(TCP, ProcNetTcp.AF_INET).get(1);
        ProcNetTcp.Socket client = ProcNetTcp.parse(TCP6, ProcNetTcp.AF_INET6).get(0);
        assertTrue(server.isPeerOf(client));
        assertTrue(client.isPeerOf(server));
        assertTrue(ProcNetTcp.parse(TCP, ProcNetTcp.AF_INET).get(0).accepts(client.remoteAddress(), 54321));
    }

    @Test
    void socketLinks() {
        assertEquals(2150000, ProcFds.socketInode("socket:[2150000]"));
        assertEquals(-1, ProcFds.socketInode("pipe:[12]"));
        assertEquals(-1, ProcFds.socketInode("socket:[x]"));
        assertEquals(-1, ProcFds.socketInode("/tmp/socket:[1]"));
    }
}
