package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What the discovery reads from PostgreSQL's own files: postmaster.pid, and its backends' titles. */
class PostgresDiscoveryTest {
    static final byte[] LOOPBACK = {127, 0, 0, 1};

    @Test
    void thePortComesFromThePostmastersPidFile() {
        String file = "5363\n/tmp/pgm/data\n1796093483\n54329\n/tmp/pgm\n127.0.0.1\n  2147633         9\nready   \n";
        assertEquals(54329, PostgresDiscovery.portFromPidFile(file, 5363));
        assertNull(PostgresDiscovery.portFromPidFile(file, 5364), "a backend sees its postmaster's file: not its own");
        assertNull(PostgresDiscovery.portFromPidFile("5363\n/data\n", 5363));
        assertNull(PostgresDiscovery.portFromPidFile("5363\n/data\n1\nport\n", 5363));
        assertNull(PostgresDiscovery.portFromPidFile("5363\n/data\n1\n70000\n", 5363));
    }

    @Test
    void aBackendsTitleNamesItsClient() {
        assertTrue(PostgresDiscovery.titleNamesClient("postgres: postgres postgres 127.0.0.1(49986) idle\0\0\0", LOOPBACK, 49986));
        assertTrue(PostgresDiscovery.titleNamesClient("postgres: 15/main: app shop 127.0.0.1(49986) SELECT", LOOPBACK, 49986));
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 127, 0, 0, 1};
        assertTrue(PostgresDiscovery.titleNamesClient("postgres: app shop 127.0.0.1(49986) idle", mapped, 49986),
                "a dual-stack client's address is its IPv4 address to an IPv4 server");
        byte[] v6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        assertTrue(PostgresDiscovery.titleNamesClient("postgres: app shop ::1(40000) idle in transaction", v6, 40000));
        assertTrue(PostgresDiscovery.titleNamesClient("postgres: app shop localhost(40000) idle", LOOPBACK, 40000),
                "log_hostname: the port decides");
        assertFalse(PostgresDiscovery.titleNamesClient("postgres: app shop 127.0.0.1(4998) idle", LOOPBACK, 49986));
        assertFalse(PostgresDiscovery.titleNamesClient("postgres: app shop 127.0.0.2(49986) idle", LOOPBACK, 49986));
        assertFalse(PostgresDiscovery.titleNamesClient("postgres: checkpointer", LOOPBACK, 49986));
        assertFalse(PostgresDiscovery.titleNamesClient("/usr/lib/postgresql/15/bin/postgres -D /data -p 5432", LOOPBACK, 5432));
        assertFalse(PostgresDiscovery.titleNamesClient("postgres: app shop [local] idle", LOOPBACK, 0));
    }

    @Test
    void theDatabaseIsTheTitlesSecondWord() {
        assertEquals("shop", PostgresDiscovery.databaseFromTitle("postgres: 15/main: app shop 127.0.0.1(49986) idle"));
        assertEquals("postgres", PostgresDiscovery.databaseFromTitle("postgres: postgres postgres 127.0.0.1(1) SELECT\0"));
        assertNull(PostgresDiscovery.databaseFromTitle("postgres: walwriter"));
        assertNull(PostgresDiscovery.databaseFromTitle("/usr/lib/postgresql/15/bin/postgres\0-D\0/data"));
    }

    @Test
    void connectionKeysHoldWhatTheKernelsSocketHolds() {
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 127, 0, 0, 1},
                PostgresProbe.raw("127.0.0.1", TcpRecord.AF_INET6), "Java's dual-stack sockets");
        assertArrayEquals(LOOPBACK, PostgresProbe.raw("127.0.0.1", TcpRecord.AF_INET));
        byte[] key = PostgresRecord.connectionKey(TcpRecord.AF_INET, LOOPBACK, 49986, LOOPBACK, 5432);
        assertEquals(TcpRecord.ENDPOINTS_SIZE, key.length);
        TcpRecord.Endpoints back = TcpRecord.endpoints(java.lang.foreign.MemorySegment.ofArray(key));
        assertEquals(new TcpRecord.Endpoints("127.0.0.1", 49986, "127.0.0.1", 5432, TcpRecord.AF_INET), back);
    }
}
