package io.jfrebpf.agent.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** JDBC workloads run by PostgresIT in a JVM under the agent, through the real pgjdbc driver. */
final class PostgresWorkloads {
    private PostgresWorkloads() {
    }

    static final int POOL = 3;
    static final int EXECUTIONS = 8; // pgjdbc switches to a named server-side statement at the 5th
    static final String SLEEP_SECONDS = "0.05";

    /**
     * A pool of {@link #POOL} connections opened at start, each used by its own worker thread
     * (prepared statement executed {@link #EXECUTIONS} times, a statement with literals, a
     * failing one); then a lock wait between two connections, then the pool grows by one.
     * Args: JDBC URL.
     */
    static final class Pool {
        public static void main(String[] args) throws Exception {
            String url = args[0];
            List<Connection> pool = new ArrayList<>();
            for (int i = 0; i < POOL; i++) {
                pool.add(DriverManager.getConnection(url));
            }
            Thread.sleep(500); // a pool opens its connections at start; traffic comes later
            List<Thread> workers = new ArrayList<>();
            for (int i = 0; i < POOL; i++) {
                int n = i;
                Thread t = new Thread(() -> {
                    try {
                        workerQueries(pool.get(n), n);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }, "pg-worker-" + i);
                workers.add(t);
                t.start();
            }
            for (Thread t : workers) {
                t.join();
            }
            lockWait(pool.get(0), pool.get(1));
            growPool(url);
            for (Connection c : pool) {
                c.close();
            }
            System.out.println("done");
        }

        static void workerQueries(Connection c, int n) throws SQLException {
            System.out.println("worker " + n + " tid=" + Workloads.gettid() + " port=" + clientPort(c));
            // two statements in turn: once pgjdbc has made both named server-side statements (at the
            // 5th execution) no Parse precedes an execution, and only debug_query_string tells them apart
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_sleep(" + SLEEP_SECONDS + "), ?::text AS secret_marker");
                    PreparedStatement other = c.prepareStatement("SELECT ?::int AS other_marker")) {
                for (int i = 0; i < EXECUTIONS; i++) {
                    ps.setString(1, "sekrit-" + n);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                    }
                    other.setInt(1, i);
                    try (ResultSet rs = other.executeQuery()) {
                        rs.next();
                    }
                }
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 'hunter2-" + n + "' AS pw, 42")) {
                rs.next();
            }
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT 1/0 AS fails");
                throw new IllegalStateException("division by zero did not fail");
            } catch (SQLException expected) {
                // the server's error: reported as a failed query
            }
        }

        /** Connection a locks a table for 300 ms; connection b (another thread) waits for it. */
        static void lockWait(Connection a, Connection b) throws Exception {
            try (Statement s = a.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS locked_table (id int)");
            }
            a.setAutoCommit(false);
            try (Statement s = a.createStatement()) {
                s.execute("LOCK TABLE locked_table IN ACCESS EXCLUSIVE MODE");
            }
            CountDownLatch started = new CountDownLatch(1);
            Thread waiter = new Thread(() -> {
                try (Statement s = b.createStatement()) {
                    started.countDown();
                    s.executeQuery("SELECT count(*) AS waited_for_lock FROM locked_table").close();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, "pg-lock-waiter");
            waiter.start();
            started.await();
            Thread.sleep(300);
            a.commit();
            a.setAutoCommit(true);
            waiter.join();
        }

        /** A connection opened while running, used after a pool's usual idle time. */
        static void growPool(String url) throws Exception {
            try (Connection c = DriverManager.getConnection(url)) {
                Thread.sleep(500);
                System.out.println("grown tid=" + Workloads.gettid() + " port=" + clientPort(c));
                grownQuery(c);
            }
        }

        static void grownQuery(Connection c) throws SQLException {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 7 AS grown")) {
                rs.next();
            }
        }

        static int clientPort(Connection c) throws SQLException {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_client_port() AS client_port")) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** One connection: a statement with a literal, and one longer than the probe keeps. Args: JDBC URL. */
    static final class Literals {
        public static void main(String[] args) throws Exception {
            try (Connection c = DriverManager.getConnection(args[0])) {
                Thread.sleep(500);
                try (Statement s = c.createStatement()) {
                    s.executeQuery("SELECT 'hunter2' AS pw").close();
                    s.executeQuery("SELECT '" + "x".repeat(3000) + "' AS long_one").close();
                }
            }
            System.out.println("done");
        }
    }

    /**
     * A report as an ORM may write it: the orders in one statement, then the lines of each order
     * one statement at a time (the N+1 pattern), then a slow aggregate. Args: JDBC URL.
     */
    static final class OrderReport {
        static final int ORDERS = 600;

        public static void main(String[] args) throws Exception {
            try (Connection c = DriverManager.getConnection(args[0])) {
                Thread.sleep(500);
                long lines = 0;
                for (int order : loadOrders(c)) {
                    lines += loadLines(c, order);
                }
                slowTotals(c);
                System.out.println("orders=" + ORDERS + " lines=" + lines);
            }
            System.out.println("done");
        }

        static List<Integer> loadOrders(Connection c) throws SQLException {
            List<Integer> orders = new ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT id FROM generate_series(1, " + ORDERS + ") AS id")) {
                while (r.next()) {
                    orders.add(r.getInt(1));
                }
            }
            return orders;
        }

        static int loadLines(Connection c, int order) throws SQLException {
            try (PreparedStatement s = c.prepareStatement("SELECT ? * 10 + g AS line FROM generate_series(1, 3) AS g")) {
                s.setInt(1, order);
                int n = 0;
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        n++;
                    }
                }
                return n;
            }
        }

        static void slowTotals(Connection c) throws SQLException {
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT count(*) AS totals FROM generate_series(1, 1000) AS g, pg_sleep(0.2)").close();
            }
        }
    }

    /** Virtual threads of {@link VirtualPool}, and connections they share. */
    static final int VIRTUAL_THREADS = 600;
    static final int SHARED_CONNECTIONS = 4;
    static final int STATEMENTS_PER_THREAD = 4;

    /**
     * A service on virtual threads with a connection pool, as Spring Boot with virtual threads and
     * HikariCP runs one: {@link #VIRTUAL_THREADS} virtual threads vt-0..vt-(n-1), one per request,
     * take one of {@link #SHARED_CONNECTIONS} connections from a queue for each statement and
     * give it back, so that consecutive statements on a connection come from other virtual
     * threads, mounted on the same few carriers. Each statement names its thread in a column
     * alias ({@code SELECT $1::int AS vt_17}: no literal, kept by the redaction). Prints
     * "vt-N id=<Java id>" for each. Args: JDBC URL.
     */
    static final class VirtualPool {
        public static void main(String[] args) throws Exception {
            java.util.concurrent.BlockingQueue<Connection> pool = new java.util.concurrent.ArrayBlockingQueue<>(SHARED_CONNECTIONS);
            for (int i = 0; i < SHARED_CONNECTIONS; i++) {
                pool.add(DriverManager.getConnection(args[0]));
            }
            Thread.sleep(500); // a pool opens its connections at start; traffic comes later
            List<java.util.concurrent.Future<String>> done = new ArrayList<>();
            try (java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newThreadPerTaskExecutor(
                    Thread.ofVirtual().name("vt-", 0).factory())) {
                for (int i = 0; i < VIRTUAL_THREADS; i++) {
                    int n = i;
                    done.add(executor.submit(() -> {
                        for (int k = 0; k < STATEMENTS_PER_THREAD; k++) {
                            virtualQuery(pool, n, k);
                        }
                        return Thread.currentThread().getName() + " id=" + Thread.currentThread().threadId();
                    }));
                }
            }
            StringBuilder out = new StringBuilder();
            for (java.util.concurrent.Future<String> f : done) {
                out.append(f.get()).append('\n');
            }
            System.out.print(out);
            for (Connection c : pool) {
                c.close();
            }
        }

        static void virtualQuery(java.util.concurrent.BlockingQueue<Connection> pool, int n, int k) throws Exception {
            Connection c = pool.take();
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int AS vt_" + n)) {
                ps.setInt(1, k);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
            } finally {
                pool.put(c);
            }
        }
    }
}
