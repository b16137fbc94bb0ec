package io.jfrebpf.bench;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The request/response service loop of the TCP benchmark, over loopback in one JVM: a server
 * thread answers each 100-byte request with 1,000 bytes. {@code keepalive seconds}: one client
 * thread sends requests on one connection as fast as the answers come (the probe runs at every
 * send); {@code churn seconds}: a new connection per request (connect, accept, close: the probe's
 * per-connection work). Prints {@code ops/s=N} after a 1-second warm-up.
 */
public final class TcpWorkload {
    static final int REQUEST = 100;
    static final int RESPONSE = 1000;

    public static void main(String[] args) throws Exception {
        boolean churn = args[0].equals("churn");
        double seconds = Double.parseDouble(args[1]);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket server = new ServerSocket(0, 512, loopback)) {
            Thread t = new Thread(() -> serve(server), "bench-server");
            t.setDaemon(true);
            t.start();
            if (churn) {
                churn(loopback, server.getLocalPort(), 1.0);
                long ops = churn(loopback, server.getLocalPort(), seconds);
                System.out.printf("ops/s=%.0f%n", ops / seconds);
            } else {
                try (Socket s = new Socket(loopback, server.getLocalPort())) {
                    s.setTcpNoDelay(true);
                    keepalive(s, 1.0);
                    long ops = keepalive(s, seconds);
                    System.out.printf("ops/s=%.0f%n", ops / seconds);
                }
            }
        }
    }

    static long keepalive(Socket s, double seconds) throws IOException {
        OutputStream out = s.getOutputStream();
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] request = new byte[REQUEST];
        byte[] response = new byte[RESPONSE];
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long ops = 0;
        while (System.nanoTime() < end) {
            out.write(request);
            in.readFully(response);
            ops++;
        }
        return ops;
    }

    static long churn(InetAddress host, int port, double seconds) throws IOException {
        byte[] request = new byte[REQUEST];
        byte[] response = new byte[RESPONSE];
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long ops = 0;
        while (System.nanoTime() < end) {
            try (Socket s = new Socket(host, port)) {
                s.setTcpNoDelay(true);
                s.getOutputStream().write(request);
                new DataInputStream(s.getInputStream()).readFully(response);
            }
            ops++;
        }
        return ops;
    }

    /** One connection at a time: answer every request until the client closes. */
    static void serve(ServerSocket server) {
        byte[] request = new byte[REQUEST];
        byte[] response = new byte[RESPONSE];
        while (true) {
            try (Socket s = server.accept()) {
                s.setTcpNoDelay(true);
                DataInputStream in = new DataInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                while (readRequest(in, request)) {
                    out.write(response);
                }
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    private static boolean readRequest(InputStream in, byte[] request) throws IOException {
        int n = 0;
        while (n < request.length) {
            int r = in.read(request, n, request.length - n);
            if (r < 0) {
                return false;
            }
            n += r;
        }
        return true;
    }
}
