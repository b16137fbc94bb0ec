package io.jfrebpf.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * JDBC load for PostgresBench, in a JVM with or without an agent; the pgjdbc driver on the class path.
 * <ul>
 * <li>{@code throughput URL THREADS SECONDS [trivial|range]}: each thread its own connection, a
 * prepared statement in a loop — {@code SELECT ?::int + 1} (the server does next to nothing), or
 * a sum over 1,000 rows of pgbench's accounts table; prints {@code ops/s=}.
 * <li>{@code latency URL CONNECTIONS}: one connection after another, each running
 * {@code SELECT <ms since connect>} every 2 ms for 300 ms right after it opened: the recording
 * tells how soon after its opening a connection's statements are seen.
 * <li>{@code idle URL SIGNAL}: two connections each running a statement every 50 ms until the
 * signal file exists (prints {@code ready}): followed backends while another client is measured.
 * </ul>
 */
public final class PostgresWorkload {
    private PostgresWorkload() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[1];
        switch (args[0]) {
            case "throughput" -> throughput(url, Integer.parseInt(args[2]), Double.parseDouble(args[3]),
                    args.length > 4 ? args[4] : "trivial");
            case "latency" -> latency(url, Integer.parseInt(args[2]));
            case "idle" -> idle(url, java.nio.file.Path.of(args[2]));
            default -> throw new IllegalArgumentException("mode: throughput, latency or idle");
        }
    }

    static final String TRIVIAL = "SELECT ?::int + 1";
    static final String RANGE = "SELECT sum(abalance) FROM pgbench_accounts WHERE aid BETWEEN ? AND ? + 999";

    static void throughput(String url, int threads, double seconds, String kind) throws Exception {
        boolean range = kind.equals("range");
        LongAdder ops = new LongAdder();
        List<Connection> connections = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            connections.add(DriverManager.getConnection(url));
        }
        Thread.sleep(500);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        List<Thread> all = new ArrayList<>();
        long start = System.nanoTime();
        for (Connection c : connections) {
            Thread t = new Thread(() -> {
                try (PreparedStatement ps = c.prepareStatement(range ? RANGE : TRIVIAL)) {
                    int i = 0;
                    while (System.nanoTime() < end) {
                        ps.setInt(1, range ? 1 + (i++ * 7919) % 99_000 : i++);
                        if (range) {
                            ps.setInt(2, 1 + ((i - 1) * 7919) % 99_000);
                        }
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                        }
                        ops.increment();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "jdbc-client");
            all.add(t);
            t.start();
        }
        for (Thread t : all) {
            t.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        for (Connection c : connections) {
            c.close();
        }
        System.out.printf(Locale.ROOT, "ops/s=%.1f%n", ops.sum() / elapsed);
    }

    static void latency(String url, int connections) throws Exception {
        Thread.sleep(1000); // the agent attached
        for (int n = 0; n < connections; n++) {
            long t0 = System.nanoTime();
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                long ms;
                while ((ms = (System.nanoTime() - t0) / 1_000_000) < 300) {
                    s.executeQuery("SELECT " + ms + " AS since_connect_ms").close();
                    Thread.sleep(2);
                }
            }
        }
        System.out.println("connections=" + connections);
    }

    static void idle(String url, java.nio.file.Path signal) throws Exception {
        List<Connection> connections = List.of(DriverManager.getConnection(url), DriverManager.getConnection(url));
        Thread.sleep(500);
        System.out.println("ready");
        while (!java.nio.file.Files.exists(signal)) {
            for (Connection c : connections) {
                try (Statement s = c.createStatement()) {
                    s.executeQuery("SELECT 1").close();
                }
            }
            Thread.sleep(50);
        }
        for (Connection c : connections) {
            c.close();
        }
    }
}
