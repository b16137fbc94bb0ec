package io.jfrebpf.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A small real service: a document store over HTTP on loopback. {@code PUT /doc/<name>} writes a
 * file, {@code GET /doc/<name>} reads it (404 when missing), {@code GET /index} lists and
 * checksums every document. A load generator in the same JVM drives it for
 * {@code demo.seconds} (default 20) with a few client threads, so the recording holds file
 * opens (including failed ones), socket and sleep syscalls, and CPU work, on named threads.
 * Given {@code demo.jdbc} (a PostgreSQL URL), writes are also recorded in an audit table, and
 * the index reads each document's revision count from it ({@link AuditLog}).
 */
public final class DemoService {
    private final Path store;
    private final HttpServer server;
    private final ExecutorService handlers;
    private final AuditLog audit;

    DemoService(Path store, AuditLog audit) throws IOException {
        this.store = store;
        this.audit = audit;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        this.handlers = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r);
            t.setName("http-handler-" + t.threadId());
            return t;
        });
        server.setExecutor(handlers);
        server.createContext("/doc/", this::document);
        server.createContext("/index", this::index);
    }

    int port() {
        return server.getAddress().getPort();
    }

    void start() {
        server.start();
    }

    void stop() {
        server.stop(0);
        handlers.shutdownNow();
    }

    private void document(HttpExchange exchange) throws IOException {
        try (exchange) {
            String name = exchange.getRequestURI().getPath().substring("/doc/".length());
            if (name.isEmpty() || name.contains("/") || name.startsWith(".")) {
                respond(exchange, 400, "bad name");
                return;
            }
            Path file = store.resolve(name);
            switch (exchange.getRequestMethod()) {
                case "PUT" -> {
                    byte[] body;
                    try (InputStream in = exchange.getRequestBody()) {
                        body = in.readAllBytes();
                    }
                    Files.write(file, body);
                    if (audit != null) {
                        try {
                            audit.recordWrite(name, body.length);
                        } catch (SQLException e) {
                            respond(exchange, 503, "audit log: " + e.getMessage());
                            return;
                        }
                    }
                    respond(exchange, 201, "stored " + name);
                }
                case "GET" -> {
                    try {
                        respond(exchange, 200, Files.readString(file));
                    } catch (NoSuchFileException e) {
                        respond(exchange, 404, "no document " + name);
                    }
                }
                default -> respond(exchange, 405, "GET or PUT");
            }
        }
    }

    private void index(HttpExchange exchange) throws IOException {
        try (exchange; Stream<Path> files = Files.list(store)) {
            StringBuilder body = new StringBuilder();
            for (Path p : files.sorted(Comparator.naturalOrder()).toList()) {
                body.append(p.getFileName()).append(' ').append(checksum(Files.readAllBytes(p)));
                if (audit != null) {
                    try {
                        body.append(' ').append(audit.revisions(p.getFileName().toString())).append(" revisions");
                    } catch (SQLException e) {
                        body.append(" (audit log: ").append(e.getMessage()).append(')');
                    }
                }
                body.append('\n');
            }
            respond(exchange, 200, body.toString());
        }
    }

    /** Deliberately CPU-heavy, so the recording has a hot Java method. */
    static long checksum(byte[] data) {
        long h = 1125899906842597L;
        for (int round = 0; round < 200; round++) {
            for (byte b : data) {
                h = 31 * h + b + round;
            }
        }
        return h;
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    public static void main(String[] args) throws Exception {
        int seconds = Integer.getInteger("demo.seconds", 20);
        int clients = Integer.getInteger("demo.clients", 3);
        Path store = Files.createTempDirectory("jfr-ebpf-demo-store");
        String jdbc = System.getProperty("demo.jdbc");
        AuditLog audit = jdbc == null || jdbc.isBlank() ? null : new AuditLog(jdbc, 2);
        DemoService service = new DemoService(store, audit);
        service.start();
        System.out.printf("demo: document store on http://127.0.0.1:%d, %d clients for %d s, files in %s%s%n",
                service.port(), clients, seconds, store, audit == null ? "" : ", audit log in PostgreSQL (" + jdbc + ")");

        AtomicLong requests = new AtomicLong();
        AtomicLong notFound = new AtomicLong();
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Thread[] threads = new Thread[clients];
        for (int i = 0; i < clients; i++) {
            int id = i;
            threads[i] = new Thread(() -> drive(http, service.port(), id, end, requests, notFound), "demo-client-" + i);
            threads[i].start();
        }
        long lastReport = System.nanoTime();
        while (System.nanoTime() < end) {
            Thread.sleep(200);
            if (System.nanoTime() - lastReport >= 5_000_000_000L) {
                lastReport = System.nanoTime();
                long left = Math.max(0, (end - lastReport) / 1_000_000_000L);
                System.out.printf("demo: %d requests so far, %d s left%n", requests.get(), left);
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        service.stop();
        if (audit != null) {
            audit.close();
        }
        try (Stream<Path> files = Files.list(store)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(store);
        System.out.printf("demo: done, %d requests (%d for missing documents)%n", requests.get(), notFound.get());
    }

    private static void drive(HttpClient http, int port, int id, long end, AtomicLong requests, AtomicLong notFound) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String base = "http://127.0.0.1:" + port;
        int n = 0;
        try {
            while (System.nanoTime() < end) {
                n++;
                String name = "doc-" + id + "-" + (n % 50);
                HttpRequest request;
                int pick = random.nextInt(100);
                if (pick < 30) {
                    String body = ("document " + name + " revision " + n + "\n").repeat(1 + random.nextInt(200));
                    request = HttpRequest.newBuilder(URI.create(base + "/doc/" + name))
                            .PUT(HttpRequest.BodyPublishers.ofString(body)).build();
                } else if (pick < 90) {
                    request = HttpRequest.newBuilder(URI.create(base + "/doc/" + name)).GET().build();
                } else {
                    request = HttpRequest.newBuilder(URI.create(base + "/index")).GET().build();
                }
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                requests.incrementAndGet();
                if (response.statusCode() == 404) {
                    notFound.incrementAndGet();
                }
                Thread.sleep(random.nextInt(5));
            }
        } catch (IOException e) {
            System.err.println("demo: client " + id + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
