package io.jfrebpf.bench;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fixed amount of service-like work for {@link LightBench}: a client sends requests over one
 * kept-alive loopback connection, a handler thread builds each response (string building), and
 * every tenth request the handler writes a small file and reads it back. The same work in every
 * run, so that the process's CPU time compares configurations. Prints "main", "done" with the
 * elapsed time, and "end"; with {@code heap}, before "end", the heap still in use after a full
 * collection. Usage: {@code ServiceLoop requests directory [heap]}.
 */
public final class ServiceLoop {
    private ServiceLoop() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("main " + System.currentTimeMillis());
        int requests = Integer.parseInt(args[0]);
        Path dir = Files.createTempDirectory(Path.of(args[1]), "service");
        long start = System.nanoTime();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread handler = new Thread(() -> serve(server, dir, requests), "handler");
            handler.start();
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                s.setTcpNoDelay(true);
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] request = ("GET /orders?customer=4711&page=").getBytes(StandardCharsets.US_ASCII);
                long check = 0;
                for (int i = 0; i < requests; i++) {
                    out.writeInt(request.length + 4);
                    out.write(request);
                    out.writeInt(i);
                    out.flush();
                    byte[] response = new byte[in.readInt()];
                    in.readFully(response);
                    check += response.length;
                }
                System.out.println("check " + check);
            }
            handler.join();
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        System.out.printf("done %d requests in %d ms%n", requests, (System.nanoTime() - start) / 1_000_000);
        if (args.length > 2 && args[2].equals("heap")) {
            Runtime rt = Runtime.getRuntime();
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            System.out.println("heap " + (rt.totalMemory() - rt.freeMemory()) + " committed " + rt.totalMemory());
        }
        System.out.println("end " + System.currentTimeMillis());
    }

    private static void serve(ServerSocket server, Path dir, int requests) {
        try (Socket s = server.accept()) {
            s.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            Path file = dir.resolve("session.txt");
            for (int i = 0; i < requests; i++) {
                byte[] request = new byte[in.readInt()];
                in.readFully(request);
                String response = respond(new String(request, 0, request.length - 4, StandardCharsets.US_ASCII), i);
                if (i % 10 == 0) {
                    Files.writeString(file, response);
                    response = Files.readString(file);
                }
                byte[] bytes = response.getBytes(StandardCharsets.UTF_8);
                out.writeInt(bytes.length);
                out.write(bytes);
                out.flush();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** About 1 KB of JSON-like text, built the way handlers build responses. */
    static String respond(String request, int i) {
        StringBuilder b = new StringBuilder(1200);
        b.append("{\"request\":\"").append(request).append(i).append("\",\"items\":[");
        for (int k = 0; k < 12; k++) {
            if (k > 0) {
                b.append(',');
            }
            b.append("{\"id\":").append(i * 31 + k).append(",\"name\":\"item-").append(Integer.toHexString(i ^ k))
                    .append("\",\"price\":").append(String.format(java.util.Locale.ROOT, "%.2f", (i % 97) * 1.25 + k)).append('}');
        }
        return b.append("]}").toString();
    }
}
