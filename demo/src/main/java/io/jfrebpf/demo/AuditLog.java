package io.jfrebpf.demo;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The document store's audit log in PostgreSQL (when the demo is given a server): every write is
 * recorded, and the index shows each document's revision count — one query per document, the
 * N+1 pattern a recording makes visible. A tiny pool of connections opened at start.
 */
final class AuditLog implements AutoCloseable {
    private final BlockingQueue<Connection> pool;

    AuditLog(String url, int connections) throws SQLException {
        pool = new ArrayBlockingQueue<>(connections);
        for (int i = 0; i < connections; i++) {
            pool.add(DriverManager.getConnection(url));
        }
        withConnection(c -> {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS audit (id serial PRIMARY KEY, name text NOT NULL, bytes int NOT NULL,"
                        + " at timestamptz NOT NULL DEFAULT now())");
                s.execute("TRUNCATE audit");
            }
            return null;
        });
    }

    void recordWrite(String name, int bytes) throws SQLException {
        withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit (name, bytes) VALUES (?, ?)")) {
                ps.setString(1, name);
                ps.setInt(2, bytes);
                ps.executeUpdate();
            }
            return null;
        });
    }

    long revisions(String name) throws SQLException {
        return withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM audit WHERE name = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T withConnection(Work<T> work) throws SQLException {
        Connection c;
        try {
            c = pool.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted waiting for a connection", e);
        }
        try {
            return work.run(c);
        } finally {
            pool.add(c);
        }
    }

    @Override
    public void close() throws SQLException {
        for (Connection c : pool) {
            c.close();
        }
    }
}
