package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The postgres probe end to end: a real PostgreSQL 15 cluster started by the test, the real JDBC
 * driver in a JVM under the agent, psql as another client of the same server.
 */
class PostgresIT {
    static PostgresCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        BpfRequirement.require();
        assertTrue(PostgresCluster.available(), "PostgreSQL 15 server binaries missing under " + PostgresCluster.BIN
                + ": scripts/setup.sh installs postgresql-15");
        cluster = PostgresCluster.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    static Path driverJar() throws Exception {
        return Path.of(org.postgresql.Driver.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void everyQueryOfOurPoolIsTimedByTheServerOnTheThreadAndStackThatSentItAndNoOtherClientsQuery(@TempDir Path dir)
            throws Exception {
        Path recording = dir.resolve("pg.jfr");
        AtomicBoolean psqlRunning = new AtomicBoolean(true);
        Thread otherClient = new Thread(() -> {
            while (psqlRunning.get()) {
                try {
                    cluster.psql("SELECT 1 AS psql_marker, pg_sleep(0.02)");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }, "psql-client");
        otherClient.start();
        ChildJvm.Result result;
        try {
            result = ChildJvm.workload(PostgresWorkloads.Pool.class, cluster.jdbcUrl()).alsoOnClassPath(driverJar())
                    .agent("file=" + recording + ",probes=tcp+postgres,log=debug").run(dir).assertSucceeded();
        } finally {
            psqlRunning.set(false);
            otherClient.join();
        }
        String out = result.output();
        assertEquals(1, result.agentLines().stream().filter(l -> l.startsWith("[jfr-ebpf] info: postgres: following backend")).count(),
                "what it follows is said once, at info: " + out);
        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> queries = where(events, "ebpf.PostgresQuery", e -> true);
        String all = describe(queries);

        assertTrue(where(queries, "ebpf.PostgresQuery", e -> e.getString("query").contains("psql_marker")).isEmpty(),
                "psql's queries are another client's:\n" + all);
        assertFalse(all.contains("hunter2") || all.contains("sekrit") || all.contains("0.05"), "literals redacted:\n" + all);

        Map<Integer, Integer> portOfWorker = new HashMap<>();
        Map<Integer, Long> tidOfWorker = new HashMap<>();
        Matcher m = Pattern.compile("worker (\\d+) tid=(\\d+) port=(\\d+)").matcher(out);
        while (m.find()) {
            portOfWorker.put(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(3)));
            tidOfWorker.put(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)));
        }
        assertEquals(PostgresWorkloads.POOL, portOfWorker.size(), out);
        assertEquals(PostgresWorkloads.POOL, portOfWorker.values().stream().distinct().count(), "one connection each: " + out);
        for (int w = 0; w < PostgresWorkloads.POOL; w++) {
            int port = portOfWorker.get(w);
            long tid = tidOfWorker.get(w);
            List<RecordedEvent> sleeps = where(queries, "ebpf.PostgresQuery",
                    e -> e.getString("query").contains("secret_marker") && e.getInt("clientPort") == port);
            assertEquals(PostgresWorkloads.EXECUTIONS, sleeps.size(), "one event per execution on port " + port + ":\n" + all);
            for (RecordedEvent e : sleeps) {
                assertEquals("SELECT pg_sleep(?), $1::text AS secret_marker", e.getString("query"));
                assertTrue(e.getDuration().compareTo(Duration.ofMillis(50)) >= 0, "server time >= pg_sleep: " + e);
                assertEquals("extended", e.getString("protocol"));
                assertEquals("postgres", e.getString("database"));
                assertFalse(e.getBoolean("failed"));
                assertOnWorker(e, w, tid, "workerQueries");
            }
            List<RecordedEvent> others = where(queries, "ebpf.PostgresQuery",
                    e -> e.getString("query").equals("SELECT $1::int AS other_marker") && e.getInt("clientPort") == port);
            assertEquals(PostgresWorkloads.EXECUTIONS, others.size(), "named statements keep their text:\n" + all);
            List<RecordedEvent> literals = where(queries, "ebpf.PostgresQuery",
                    e -> e.getString("query").equals("SELECT ? AS pw, ?") && e.getInt("clientPort") == port);
            assertEquals(1, literals.size(), all);
            assertOnWorker(literals.get(0), w, tid, "workerQueries");
            List<RecordedEvent> failed = where(queries, "ebpf.PostgresQuery",
                    e -> e.getString("query").equals("SELECT ?/? AS fails") && e.getInt("clientPort") == port);
            assertEquals(1, failed.size(), all);
            assertTrue(failed.get(0).getBoolean("failed"), "division by zero failed: " + failed.get(0));
            assertOnWorker(failed.get(0), w, tid, "workerQueries");
        }
        List<RecordedEvent> waited = where(queries, "ebpf.PostgresQuery", e -> e.getString("query").contains("waited_for_lock"));
        assertEquals(1, waited.size(), all);
        assertTrue(waited.get(0).getDuration("lockWait").compareTo(Duration.ofMillis(250)) >= 0, "lock wait: " + waited.get(0));
        assertTrue(waited.get(0).getDuration().compareTo(waited.get(0).getDuration("lockWait")) >= 0, waited.get(0).toString());
        assertTrue(hasFrame(waited.get(0), "lambda$lockWait"), "stack of " + waited.get(0));

        Matcher grown = Pattern.compile("grown tid=(\\d+) port=(\\d+)").matcher(out);
        assertTrue(grown.find(), out);
        int grownPort = Integer.parseInt(grown.group(2));
        List<RecordedEvent> grownQueries = where(queries, "ebpf.PostgresQuery",
                e -> e.getString("query").equals("SELECT ? AS grown"));
        assertEquals(1, grownQueries.size(), "the connection opened while running is followed:\n" + all);
        assertEquals(grownPort, grownQueries.get(0).getInt("clientPort"));
        assertTrue(hasFrame(grownQueries.get(0), "grownQuery"), "stack of " + grownQueries.get(0));
        assertEquals(Long.parseLong(grown.group(1)), grownQueries.get(0).getThread().getOSThreadId());

        RecordedEvent status = where(events, "ebpf.ProbeStatus", e -> e.getString("probe").equals("postgres")).get(0);
        assertTrue(status.getBoolean("attached"), status.toString());
        assertTrue(status.getString("reason").contains("4 backend(s)"), "3 pooled + 1 grown: " + status);
        assertEquals(0, status.getLong("lost"), status.toString());
        // a few executions per statement and connection: no N+1; the statement that waited 300 ms for a lock is slow
        JmcRules.on(recording).quiet("NPlusOne", "LostEvents").fires("SlowQuery", "waiting for locks");
    }

    /**
     * Without the tcp probe the postgres probe finds its connections itself, at once: every
     * statement of a short run is recorded (it used to wait for a socket-table read every 5 s).
     */
    @Test
    void withoutTheTcpProbeEveryStatementOfAShortRunIsRecorded(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("alone.jfr");
        ChildJvm.Result result = ChildJvm.workload(PostgresWorkloads.Pool.class, cluster.jdbcUrl()).alsoOnClassPath(driverJar())
                .agent("file=" + recording + ",probes=postgres").run(dir).assertSucceeded();
        List<RecordedEvent> queries = where(Recordings.read(recording), "ebpf.PostgresQuery", e -> true);
        String all = describe(queries);
        Matcher m = Pattern.compile("worker (\\d+) tid=(\\d+) port=(\\d+)").matcher(result.output());
        int workers = 0;
        while (m.find()) {
            workers++;
            int port = Integer.parseInt(m.group(3));
            List<RecordedEvent> sleeps = where(queries, "ebpf.PostgresQuery",
                    e -> e.getString("query").contains("secret_marker") && e.getInt("clientPort") == port);
            assertEquals(PostgresWorkloads.EXECUTIONS, sleeps.size(), "every execution on port " + port + ":\n" + all);
            for (RecordedEvent e : sleeps) {
                assertOnWorker(e, Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), "workerQueries");
            }
        }
        assertEquals(PostgresWorkloads.POOL, workers, result.output());
    }

    /**
     * Statements from many virtual threads that share a few connections and two carriers: each
     * ebpf.PostgresQuery names the virtual thread that sent it (its alias vt_N is vt-N's), with a
     * stack in the code that sent it, though the connection's previous statement came from
     * another virtual thread on the same carrier a moment before.
     */
    @Test
    void statementsOfVirtualThreadsSharingConnectionsAndCarriersNameTheVirtualThreadThatSentThem(@TempDir Path dir)
            throws Exception {
        Path recording = dir.resolve("vt.jfr");
        ChildJvm.Result result = ChildJvm.workload(PostgresWorkloads.VirtualPool.class, cluster.jdbcUrl()).alsoOnClassPath(driverJar())
                .agent("file=" + recording + ",probes=tcp+postgres").run(dir).assertSucceeded();
        Map<String, Long> ids = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^(vt-\\d+) id=(\\d+)$").matcher(result.output());
        while (m.find()) {
            ids.put(m.group(1), Long.parseLong(m.group(2)));
        }
        assertEquals(PostgresWorkloads.VIRTUAL_THREADS, ids.size(), "virtual threads the workload printed");
        List<RecordedEvent> queries = where(Recordings.read(recording), "ebpf.PostgresQuery",
                e -> e.getString("query").startsWith("SELECT $1::int AS vt_"));
        assertEquals(PostgresWorkloads.VIRTUAL_THREADS * PostgresWorkloads.STATEMENTS_PER_THREAD, queries.size(), describe(queries));
        List<String> wrong = new java.util.ArrayList<>();
        for (RecordedEvent e : queries) {
            String sender = "vt-" + e.getString("query").substring("SELECT $1::int AS vt_".length());
            RecordedThread t = e.getThread();
            if (t == null || !t.isVirtual() || !sender.equals(t.getJavaName()) || t.getJavaThreadId() != ids.get(sender)
                    || !hasFrame(e, "virtualQuery")) {
                wrong.add(sender + "'s statement on " + (t == null ? "no thread" : t.getJavaName() + " (virtual " + t.isVirtual()
                        + ", id " + t.getJavaThreadId() + ")") + (hasFrame(e, "virtualQuery") ? "" : ", stack without virtualQuery"));
            }
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + queries.size() + " statements on the wrong thread or stack, e.g. "
                + wrong.subList(0, Math.min(10, wrong.size())));
    }

    /** The JMC rules on a report written the N+1 way: they name the loop and the slow statement, each with its code. */
    @Test
    void theRulesNameTheNPlusOneLoopAndTheSlowStatementWithTheirCode(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("report.jfr");
        ChildJvm.workload(PostgresWorkloads.OrderReport.class, cluster.jdbcUrl()).alsoOnClassPath(driverJar())
                .agent("file=" + recording + ",probes=tcp+postgres").run(dir).assertSucceeded();
        List<RecordedEvent> statements = where(Recordings.read(recording), "ebpf.PostgresQuery", e -> true);
        List<RecordedEvent> lines = where(statements, "ebpf.PostgresQuery", e -> hasFrame(e, "loadLines"));
        assertEquals(PostgresWorkloads.OrderReport.ORDERS, lines.size(), "one event per order's statement");
        assertTrue(statements.size() >= PostgresWorkloads.OrderReport.ORDERS + 2, "the orders' and the totals' too: " + statements.size());
        JmcRules.on(recording)
                .fires("NPlusOne", PostgresWorkloads.OrderReport.ORDERS + " executions of one statement",
                        "generate_series(?, ?)", "PostgresWorkloads$OrderReport.loadLines")
                // (the orders, their lines and the totals; pgjdbc may send a statement of its own after connecting)
                .fires("SlowQuery", "1 of " + statements.size() + " statements",
                        "pg_sleep(?)", "PostgresWorkloads$OrderReport.slowTotals")
                .quiet("LostEvents");
    }

    @Test
    void literalsAreKeptWhenAskedForAndLongTextIsCutAndMarked(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("literals.jfr");
        ChildJvm.workload(PostgresWorkloads.Literals.class, cluster.jdbcUrl()).alsoOnClassPath(driverJar())
                .agent("file=" + recording + ",probes=tcp+postgres,postgres.redact=false").run(dir).assertSucceeded();
        List<RecordedEvent> queries = where(Recordings.read(recording), "ebpf.PostgresQuery", e -> true);
        String all = describe(queries);
        assertEquals(1, where(queries, "ebpf.PostgresQuery", e -> e.getString("query").equals("SELECT 'hunter2' AS pw")).size(),
                all);
        List<RecordedEvent> longOnes = where(queries, "ebpf.PostgresQuery", e -> e.getString("query").startsWith("SELECT 'xxx"));
        assertEquals(1, longOnes.size(), all);
        String text = longOnes.get(0).getString("query");
        assertEquals("SELECT '" + "x".repeat(2047 - "SELECT '".length()) + "…", text, "2,047 bytes kept, then the mark");
        // two quick statements, once each: neither slow nor repeated
        JmcRules.on(recording).quiet("SlowQuery", "NPlusOne", "LostEvents");
    }

    @Test
    void aJvmThatDoesNotUseTheServerAttachesNothingAndSaysSo(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("none.jfr");
        ChildJvm.Result result = ChildJvm.workload(CpuBurn.class, "1", "0.5").agent("file=" + recording)
                .run(dir).assertSucceeded();
        assertTrue(result.agentLines().stream().noneMatch(l -> l.contains(": postgres:")), "nothing to say at info: " + result.output());
        List<RecordedEvent> events = Recordings.read(recording);
        RecordedEvent status = where(events, "ebpf.ProbeStatus", e -> e.getString("probe").equals("postgres")).get(0);
        assertTrue(status.getBoolean("attached"), "on by default: " + status);
        assertTrue(status.getString("reason").startsWith("no colocated PostgreSQL server served this JVM: nothing attached"),
                status.toString());
        assertEquals(0, status.getLong("events"));
        assertTrue(where(events, "ebpf.PostgresQuery", e -> true).isEmpty());
    }

    /**
     * Least privilege, measured: a JVM running as another user than the server (nobody) with the
     * capabilities the other probes need cannot look into the server's processes; it takes
     * CAP_SYS_PTRACE (read their descriptors, maps and binary) and CAP_DAC_READ_SEARCH (list
     * their descriptors), each alone is not enough.
     */
    @Test
    void aJvmOfAnotherUserNeedsCapSysPtraceAndDacReadSearchToFollowTheServersBackends(@TempDir Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path driver = Files.copy(driverJar(), dir.resolve("postgresql.jar"));
        Files.setPosixFilePermissions(driver, PosixFilePermissions.fromString("rw-r--r--"));
        for (String extra : List.of("", "sys_ptrace", "dac_read_search")) {
            Path without = dir.resolve("without-" + extra + ".jfr");
            List<String> caps = new java.util.ArrayList<>(List.of("bpf", "perfmon", "sys_admin"));
            if (!extra.isEmpty()) {
                caps.add(extra);
            }
            ChildJvm.Result r = ChildJvm.workload(PostgresWorkloads.Literals.class, cluster.jdbcUrl()).alsoOnClassPath(driver)
                    .asNobodyWith(caps.toArray(String[]::new)).in(dir).agent("file=" + without + ",probes=tcp+postgres")
                    .run(dir).assertSucceeded();
            List<RecordedEvent> events = Recordings.read(without);
            assertTrue(where(events, "ebpf.PostgresQuery", e -> true).isEmpty(), caps + ": " + r.output());
            RecordedEvent status = where(events, "ebpf.ProbeStatus", e -> e.getString("probe").equals("postgres")).get(0);
            assertTrue(status.getString("reason").contains("nothing attached")
                    && status.getString("reason").contains("needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH"), caps + ": " + status);
        }
        Path with = dir.resolve("with.jfr");
        ChildJvm.Result r = ChildJvm.workload(PostgresWorkloads.Literals.class, cluster.jdbcUrl()).alsoOnClassPath(driver)
                .asNobodyWith("bpf", "perfmon", "sys_admin", "sys_ptrace", "dac_read_search").in(dir)
                .agent("file=" + with + ",probes=tcp+postgres").run(dir).assertSucceeded();
        List<RecordedEvent> queries = where(Recordings.read(with), "ebpf.PostgresQuery", e -> true);
        assertEquals(1, where(queries, "ebpf.PostgresQuery", e -> e.getString("query").equals("SELECT ? AS pw")).size(),
                r.output() + describe(queries));
    }

    private static void assertOnWorker(RecordedEvent e, int worker, long tid, String method) {
        assertEquals("pg-worker-" + worker, e.getThread().getJavaName(), "thread of " + e);
        assertEquals(tid, e.getThread().getOSThreadId(), "OS thread of " + e);
        assertTrue(hasFrame(e, method), "stack of " + e);
    }

    static boolean hasFrame(RecordedEvent e, String method) {
        if (e.getStackTrace() == null) {
            return false;
        }
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
            if (f.getMethod() != null && f.getMethod().getName().startsWith(method)
                    && f.getMethod().getType().getName().contains("PostgresWorkloads")) {
                return true;
            }
        }
        return false;
    }

    static String describe(List<RecordedEvent> queries) {
        StringBuilder b = new StringBuilder();
        for (RecordedEvent e : queries) {
            b.append(e.getInt("clientPort")).append(' ').append(e.getInt("backendPid")).append(' ')
                    .append(e.getDuration().toMillis()).append("ms ")
                    .append(e.getThread() == null ? "-" : e.getThread().getJavaName()).append(' ')
                    .append(e.getBoolean("failed") ? "FAILED " : "").append(e.getString("query")).append('\n');
        }
        return b.toString();
    }
}
