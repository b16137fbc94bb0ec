package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the generated layouts cannot prove. Every record offset, size and constant the agent
 * decodes comes from bpf/gen/Skeletons.java, which reads them from the objects' BTF and the
 * headers at build time: they cannot drift. Left to check here: the BPF cookie the agent builds
 * for a USDT site decodes, with the C macros the program uses (bpf/checks.c), to what it meant;
 * and that the decoders read what a record holds.
 */
class LayoutTest {
    static Properties c;

    @BeforeAll
    static void load() throws Exception {
        c = new Properties();
        try (InputStream in = LayoutTest.class.getResourceAsStream("/io/jfrebpf/bpf/checks.properties")) {
            assertNotNull(in, "checks.properties missing from the bpf jar");
            c.load(in);
        }
    }

    static void same(String key, long java) {
        String v = c.getProperty(key);
        assertNotNull(v, key + " not in checks.c");
        assertEquals(Long.parseLong(v), java, key);
    }

    @Test
    void thePostgresCookieTheAgentBuildsIsTheOneTheProgramDecodes() {
        io.jfrebpf.agent.os.UsdtArgument rbpMinus144 = io.jfrebpf.agent.os.UsdtArgument.parse("8@-144(%rbp)");
        same("pg_cookie_sample.value", PostgresProbe.cookie(7, rbpMinus144));
        same("pg_cookie_sample.probe", 7);
        same("pg_cookie_sample.kind", PostgresProbe.ARG_MEMORY);
        same("pg_cookie_sample.reg_offset", rbpMinus144.ptRegsOffset());
        same("pg_cookie_sample.displacement", rbpMinus144.displacement());
    }

    @Test
    void everyUsdtProbeTheAgentAttachesHasTheNumberTheProgramKnows() {
        for (PostgresProbe.Usdt u : PostgresProbe.USDTS) {
            String name = "PG_" + u.probe().replace("__", "_").toUpperCase(java.util.Locale.ROOT);
            try {
                assertEquals(io.jfrebpf.bpf.PostgresLayout.class.getField(name).getLong(null), u.kind(), name);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError("postgres.h has no " + name, e);
            }
        }
    }

    @Test
    void decodesAFileOpenRecordBuiltByHand() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(FileOpenRecord.SIZE);
            r.set(ValueLayout.JAVA_LONG, EventHeader.TIMESTAMP_NS, 123_456_789L);
            r.set(ValueLayout.JAVA_LONG, EventHeader.DURATION_NS, 4_200L);
            r.set(ValueLayout.JAVA_INT, EventHeader.PID, 77);
            r.set(ValueLayout.JAVA_INT, EventHeader.TID, 78);
            r.set(ValueLayout.JAVA_LONG, EventHeader.USER_STACK, 0L);
            r.set(ValueLayout.JAVA_INT, EventHeader.KERNEL_STACK_ID, -1);
            MemorySegment.copy("opener\0".getBytes(StandardCharsets.UTF_8), 0, r, ValueLayout.JAVA_BYTE, EventHeader.COMM, 7);
            r.set(ValueLayout.JAVA_LONG, EventHeader.JAVA_THREAD_ID, 4_242L);
            r.set(ValueLayout.JAVA_LONG, FileOpenRecord.RESULT, -2L);
            r.set(ValueLayout.JAVA_INT, FileOpenRecord.DIRFD, FileOpenRecord.AT_FDCWD);
            r.set(ValueLayout.JAVA_INT, FileOpenRecord.FLAGS, 0x80000);
            byte[] path = "data/é.txt".getBytes(StandardCharsets.UTF_8);
            r.set(ValueLayout.JAVA_INT, FileOpenRecord.PATH_LEN, path.length);
            MemorySegment.copy(path, 0, r, ValueLayout.JAVA_BYTE, FileOpenRecord.PATH, path.length);

            FileOpenRecord d = FileOpenRecord.decode(r);
            assertEquals(new EventHeader(123_456_789L, 4_200L, 77, 78, 0L, -1, "opener", 4_242L), d.header());
            assertEquals(-2L, d.result());
            assertEquals(FileOpenRecord.AT_FDCWD, d.dirfd());
            assertEquals(0x80000, d.flags());
            assertEquals("data/é.txt", d.path());
            assertEquals(false, d.truncated());

            r.set(ValueLayout.JAVA_INT, FileOpenRecord.PATH_FLAGS, FileOpenRecord.FILE_OPEN_TRUNCATED);
            r.set(ValueLayout.JAVA_INT, FileOpenRecord.PATH_LEN, -5); // garbage length: read up to the NUL instead
            assertEquals("data/é.txt", FileOpenRecord.decode(r).path());
            assertEquals(true, FileOpenRecord.decode(r).truncated());
            // a variable-length record: only the fixed part and the path were sent
            r.set(ValueLayout.JAVA_INT, FileOpenRecord.PATH_LEN, path.length);
            assertEquals("data/é.txt", FileOpenRecord.decode(r.asSlice(0, FileOpenRecord.PATH + path.length + 1)).path());
            assertEquals("data/", FileOpenRecord.decode(r.asSlice(0, FileOpenRecord.PATH + 5)).path());
        }
    }

    @Test
    void aShortRecordIsAClearError() {
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SyscallLatencyRecord.decode(arena.allocate(20)));
            assertEquals("syscall_latency_record record of 20 bytes, expected 80", e.getMessage());
        }
    }

    @Test
    void statisticsMergeOverCpusAndSubtractPeriods() {
        try (Arena arena = Arena.ofConfined()) {
            int cpus = 3;
            MemorySegment s = arena.allocate(SyscallStats.perCpuBytes(cpus));
            long stride = SyscallStats.perCpuStride(SyscallStats.SIZE);
            for (int cpu = 0; cpu < cpus; cpu++) {
                s.set(ValueLayout.JAVA_LONG, cpu * stride + SyscallStats.COUNT, 10 + cpu);
                s.set(ValueLayout.JAVA_LONG, cpu * stride + SyscallStats.ERRORS, 1);
                s.set(ValueLayout.JAVA_LONG, cpu * stride + SyscallStats.TOTAL_NS, 1000);
                s.set(ValueLayout.JAVA_LONG, cpu * stride + SyscallStats.MAX_NS, 100 * (cpu + 1));
                s.set(ValueLayout.JAVA_LONG, cpu * stride + SyscallStats.HISTOGRAM + 8 * 10, 10 + cpu);
            }
            SyscallStats total = SyscallStats.merge(s, cpus);
            assertEquals(33, total.count());
            assertEquals(3, total.errors());
            assertEquals(3000, total.totalNs());
            assertEquals(300, total.maxNs());
            assertEquals("1024:33", total.histogramText());
            assertEquals(2047, total.histogramUpperBoundNs());
            long[] before = new long[SyscallStats.HIST_BUCKETS];
            before[10] = 30;
            SyscallStats delta = total.minus(new SyscallStats(30, 2, 2500, 200, before));
            assertEquals(3, delta.count());
            assertEquals(1, delta.errors());
            assertEquals(500, delta.totalNs());
            assertEquals("1024:3", delta.histogramText());
        }
    }
}
