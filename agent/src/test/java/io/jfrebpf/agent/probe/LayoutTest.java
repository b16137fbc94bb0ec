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
import io.jfrebpf.agent.stack.UserStack;

/**
 * The Java mirrors against the C headers: bpf/build.sh compiles bpf/layout.c with the same
 * headers and ships its sizeof/offsetof table; any drift between the two sides fails here.
 */
class LayoutTest {
    static Properties c;

    @BeforeAll
    static void load() throws Exception {
        c = new Properties();
        try (InputStream in = LayoutTest.class.getResourceAsStream("/io/jfrebpf/bpf/layout.properties")) {
            assertNotNull(in, "layout.properties missing from the bpf jar");
            c.load(in);
        }
    }

    static void same(String key, long java) {
        String v = c.getProperty(key);
        assertNotNull(v, key + " not in layout.c");
        assertEquals(Long.parseLong(v), java, key);
    }

    @Test
    void eventHeader() {
        same("event_header.size", EventHeader.SIZE);
        same("event_header.timestamp_ns", EventHeader.TIMESTAMP_NS);
        same("event_header.duration_ns", EventHeader.DURATION_NS);
        same("event_header.pid", EventHeader.PID);
        same("event_header.tid", EventHeader.TID);
        same("event_header.user_stack", EventHeader.USER_STACK);
        same("event_header.kernel_stack_id", EventHeader.KERNEL_STACK_ID);
        same("event_header.comm", EventHeader.COMM);
        same("const.TASK_COMM_LEN", EventHeader.TASK_COMM_LEN);
        same("const.NO_STACK", EventHeader.NO_STACK);
        same("const.NO_USER_STACK", EventHeader.NO_USER_STACK);
    }

    @Test
    void kernelProgramInfo() {
        // not our header: the counter BpfProgram reads from the kernel's struct bpf_prog_info
        same("bpf_prog_info.recursion_misses", io.jfrebpf.agent.libbpf.BpfProgram.RECURSION_MISSES_OFFSET);
    }

    @Test
    void stacks() {
        same("user_frame.size", UserStack.FRAME_SIZE);
        same("user_frame.pc", UserStack.FRAME_PC);
        same("user_frame.aux", UserStack.FRAME_AUX);
        same("user_stack.size", UserStack.SIZE);
        same("user_stack.depth", UserStack.DEPTH);
        same("user_stack.flags", UserStack.FLAGS);
        same("user_stack.frames", UserStack.FRAMES);
        same("const.USER_STACK_MAX_DEPTH", UserStack.MAX_DEPTH);
        same("const.KERNEL_STACK_MAX_DEPTH", UserStack.KERNEL_MAX_DEPTH);
        same("const.USER_STACK_TRUNCATED", UserStack.TRUNCATED);
        same("const.USER_STACK_RESUMED", UserStack.RESUMED);
        assertEquals(c.getProperty("const.USER_FRAME_INTERPRETED"), Long.toUnsignedString(UserStack.FRAME_INTERPRETED));
    }

    @Test
    void cpuSample() {
        same("cpu_sample_record.size", CpuSampleRecord.SIZE);
        same("cpu_sample_record.header", CpuSampleRecord.HEADER);
        same("cpu_sample_record.cpu", CpuSampleRecord.CPU);
        same("cpu_sample_record.state", CpuSampleRecord.STATE);
        same("const.CPU_STATE_USER", CpuSampleRecord.STATE_USER);
        same("const.CPU_STATE_KERNEL", CpuSampleRecord.STATE_KERNEL);
    }

    @Test
    void offCpu() {
        same("offcpu_record.size", OffCpuRecord.SIZE);
        same("offcpu_record.header", OffCpuRecord.HEADER);
        same("offcpu_record.state", OffCpuRecord.STATE);
        same("offcpu_record.kernel_depth", OffCpuRecord.KERNEL_DEPTH);
        same("offcpu_record.kernel_ips", OffCpuRecord.KERNEL_IPS);
        same("const.OFFCPU_KERNEL_MAX", OffCpuRecord.KERNEL_MAX);
    }

    @Test
    void tcp() {
        same("tcp_record.size", TcpRecord.SIZE);
        same("tcp_record.header", TcpRecord.HEADER);
        same("tcp_record.sock", TcpRecord.SOCK);
        same("tcp_record.open_ns", TcpRecord.OPEN_NS);
        same("tcp_record.kind", TcpRecord.KIND);
        same("tcp_record.error", TcpRecord.ERROR);
        same("tcp_record.state", TcpRecord.STATE);
        same("tcp_record.retransmits", TcpRecord.RETRANSMITS);
        same("tcp_record.endpoints", TcpRecord.ENDPOINTS);
        same("tcp_record.bytes_sent", TcpRecord.BYTES_SENT);
        same("tcp_record.bytes_received", TcpRecord.BYTES_RECEIVED);
        same("tcp_record.segments_out", TcpRecord.SEGMENTS_OUT);
        same("tcp_record.segments_in", TcpRecord.SEGMENTS_IN);
        same("tcp_record.srtt_us", TcpRecord.SRTT_US);
        same("tcp_record.direction", TcpRecord.DIRECTION);
        same("tcp_endpoints.size", TcpRecord.ENDPOINTS_SIZE);
        same("tcp_endpoints.local_addr", TcpRecord.LOCAL_ADDR);
        same("tcp_endpoints.remote_addr", TcpRecord.REMOTE_ADDR);
        same("tcp_endpoints.local_port", TcpRecord.LOCAL_PORT);
        same("tcp_endpoints.remote_port", TcpRecord.REMOTE_PORT);
        same("tcp_endpoints.family", TcpRecord.FAMILY);
        same("const.TCP_RECORD_CONNECT", TcpRecord.CONNECT);
        same("const.TCP_RECORD_ACCEPT", TcpRecord.ACCEPT);
        same("const.TCP_RECORD_CLOSE", TcpRecord.CLOSE);
        same("const.TCP_RECORD_RETRANSMIT", TcpRecord.RETRANSMIT);
        same("const.TCP_RECORD_OPEN", TcpRecord.OPEN);
        same("const.TCP_OUTBOUND", TcpRecord.OUTBOUND);
        same("const.TCP_ACCEPTED", TcpRecord.ACCEPTED);
        same("const.TCP_ERROR_CLOSED_BEFORE_ESTABLISHED", TcpRecord.ERROR_CLOSED_BEFORE_ESTABLISHED);
    }

    @Test
    void postgres() {
        same("pg_query_record.size", PostgresRecord.SIZE);
        same("pg_query_record.header", PostgresRecord.HEADER);
        same("pg_query_record.lock_wait_ns", PostgresRecord.LOCK_WAIT_NS);
        same("pg_query_record.backend_pid", PostgresRecord.BACKEND_PID);
        same("pg_query_record.protocol", PostgresRecord.PROTOCOL);
        same("pg_query_record.flags", PostgresRecord.FLAGS);
        same("pg_query_record.query_len", PostgresRecord.QUERY_LEN);
        same("pg_query_record.query", PostgresRecord.QUERY);
        same("pg_backend.size", PostgresRecord.BACKEND_SIZE);
        same("pg_backend.debug_query_string", PostgresRecord.BACKEND_DEBUG_QUERY_STRING);
        same("const.PG_QUERY_MAX", PostgresRecord.QUERY_MAX);
        same("const.PG_PROTOCOL_SIMPLE", PostgresRecord.PROTOCOL_SIMPLE);
        same("const.PG_PROTOCOL_EXTENDED", PostgresRecord.PROTOCOL_EXTENDED);
        same("const.PG_FLAG_TRUNCATED", PostgresRecord.FLAG_TRUNCATED);
        same("const.PG_FLAG_FAILED", PostgresRecord.FLAG_FAILED);
        same("const.PG_ARG_NONE", PostgresProbe.ARG_NONE);
        same("const.PG_ARG_REGISTER", PostgresProbe.ARG_REGISTER);
        same("const.PG_ARG_MEMORY", PostgresProbe.ARG_MEMORY);
        for (PostgresProbe.Usdt u : PostgresProbe.USDTS) {
            same("const.PG_" + u.probe().replace("__", "_").toUpperCase(java.util.Locale.ROOT), u.kind());
        }
        // the cookie the agent builds is the one the program decodes
        io.jfrebpf.agent.os.UsdtArgument rbpMinus144 = io.jfrebpf.agent.os.UsdtArgument.parse("8@-144(%rbp)");
        same("pg_cookie_sample.value", PostgresProbe.cookie(7, rbpMinus144));
        same("pg_cookie_sample.probe", 7);
        same("pg_cookie_sample.kind", PostgresProbe.ARG_MEMORY);
        same("pg_cookie_sample.reg_offset", rbpMinus144.ptRegsOffset());
        same("pg_cookie_sample.displacement", rbpMinus144.displacement());
    }

    @Test
    void malloc() {
        same("malloc_record.size", MallocRecord.SIZE);
        same("malloc_record.header", MallocRecord.HEADER);
        same("malloc_record.address", MallocRecord.ADDRESS);
        same("malloc_record.bytes", MallocRecord.BYTES);
        same("malloc_record.weight", MallocRecord.WEIGHT);
        same("malloc_record.function", MallocRecord.FUNCTION);
        same("live_allocation.size", MallocRecord.Live.SIZE);
        same("live_allocation.ns", MallocRecord.Live.NS);
        same("live_allocation.bytes", MallocRecord.Live.BYTES);
        same("live_allocation.weight", MallocRecord.Live.WEIGHT);
        same("live_allocation.user_stack", MallocRecord.Live.USER_STACK);
        same("live_allocation.tid", MallocRecord.Live.TID);
        same("live_allocation.function", MallocRecord.Live.FUNCTION);
        same("const.MALLOC_MALLOC", MallocRecord.MALLOC);
        same("const.MALLOC_CALLOC", MallocRecord.CALLOC);
        same("const.MALLOC_REALLOC", MallocRecord.REALLOC);
        same("const.MALLOC_POSIX_MEMALIGN", MallocRecord.POSIX_MEMALIGN);
        same("const.MALLOC_ALIGNED_ALLOC", MallocRecord.ALIGNED_ALLOC);
        same("const.LIVE_MAX_ENTRIES", MallocProbe.LIVE_MAX_ENTRIES);
    }

    @Test
    void sched() {
        same("runq_record.size", RunQueueRecord.SIZE);
        same("runq_record.header", RunQueueRecord.HEADER);
        same("runq_record.cpu", RunQueueRecord.CPU);
        same("runq_record.preempted", RunQueueRecord.PREEMPTED);
    }

    @Test
    void syscallLatency() {
        same("syscall_latency_record.size", SyscallLatencyRecord.SIZE);
        same("syscall_latency_record.header", SyscallLatencyRecord.HEADER);
        same("syscall_latency_record.result", SyscallLatencyRecord.RESULT);
        same("syscall_latency_record.number", SyscallLatencyRecord.NUMBER);
        same("syscall_stats.size", SyscallStats.SIZE);
        same("syscall_stats.count", SyscallStats.COUNT);
        same("syscall_stats.errors", SyscallStats.ERRORS);
        same("syscall_stats.total_ns", SyscallStats.TOTAL_NS);
        same("syscall_stats.max_ns", SyscallStats.MAX_NS);
        same("syscall_stats.histogram", SyscallStats.HISTOGRAM);
        same("const.SYSCALL_MAX_NR", SyscallStats.MAX_NR);
        same("const.SYSCALL_HIST_BUCKETS", SyscallStats.HIST_BUCKETS);
    }

    @Test
    void fileOpen() {
        same("file_open_record.size", FileOpenRecord.SIZE);
        same("file_open_record.header", FileOpenRecord.HEADER);
        same("file_open_record.result", FileOpenRecord.RESULT);
        same("file_open_record.dirfd", FileOpenRecord.DIRFD);
        same("file_open_record.flags", FileOpenRecord.FLAGS);
        same("file_open_record.mode", FileOpenRecord.MODE);
        same("file_open_record.path_flags", FileOpenRecord.PATH_FLAGS);
        same("file_open_record.path_len", FileOpenRecord.PATH_LEN);
        same("file_open_record.path", FileOpenRecord.PATH);
        same("const.FILE_PATH_MAX", FileOpenRecord.FILE_PATH_MAX);
        same("const.FILE_OPEN_TRUNCATED", FileOpenRecord.FILE_OPEN_TRUNCATED);
        same("const.FILE_OPEN_ERRNO_UNKNOWN", FileOpenRecord.FILE_OPEN_ERRNO_UNKNOWN);
        same("const.FILE_OPEN_AT_FDCWD", FileOpenRecord.AT_FDCWD);
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
            r.set(ValueLayout.JAVA_LONG, FileOpenRecord.RESULT, -2L);
            r.set(ValueLayout.JAVA_INT, FileOpenRecord.DIRFD, FileOpenRecord.AT_FDCWD);
            r.set(ValueLayout.JAVA_INT, FileOpenRecord.FLAGS, 0x80000);
            byte[] path = "data/é.txt".getBytes(StandardCharsets.UTF_8);
            r.set(ValueLayout.JAVA_INT, FileOpenRecord.PATH_LEN, path.length);
            MemorySegment.copy(path, 0, r, ValueLayout.JAVA_BYTE, FileOpenRecord.PATH, path.length);

            FileOpenRecord d = FileOpenRecord.decode(r);
            assertEquals(new EventHeader(123_456_789L, 4_200L, 77, 78, 0L, -1, "opener"), d.header());
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
            assertEquals("syscall_latency_record record of 20 bytes, expected 72", e.getMessage());
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
