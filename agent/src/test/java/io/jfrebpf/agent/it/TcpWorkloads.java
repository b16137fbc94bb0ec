package io.jfrebpf.agent.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/** TCP programs the integration tests run under the agent. Each prints what the test checks against. */
final class TcpWorkloads {
    private TcpWorkloads() {
    }

    static void readExactly(InputStream in, int n) throws IOException {
        byte[] buffer = new byte[8192];
        int left = n;
        while (left > 0) {
            int r = in.read(buffer, 0, Math.min(buffer.length, left));
            if (r < 0) {
                throw new IOException("EOF with " + left + " of " + n + " bytes unread");
            }
            left -= r;
        }
    }

    static void writeBytes(OutputStream out, int n) throws IOException {
        byte[] chunk = new byte[4096];
        Arrays.fill(chunk, (byte) 'x');
        for (int left = n; left > 0; left -= chunk.length) {
            out.write(chunk, 0, Math.min(chunk.length, left));
        }
        out.flush();
    }

    /**
     * A server thread "tcp-server" and a client thread "tcp-client" on one address (127.0.0.1 or
     * ::1): n connections, every other one connected by a non-blocking NIO channel; on each the
     * client writes clientBytes, the server answers serverBytes, the client closes first, the
     * server after reading the end. Then one connect to a port nobody listens on (refused), and
     * one connection (5,000 bytes each way) left open when main returns.
     */
    static final class Exchange {
        static final int OPEN_CLIENT_BYTES = 5000;
        /**
         * Both ends of the connection left open, reachable until the JVM exits: a socket only a
         * finished main() referred to is closed by its Cleaner at the next GC (one CI run saw the
         * client end closed 50 ms after its last use, not still open at the end).
         */
        static final Socket[] CLIENT_KEPT = new Socket[1];
        static final Socket[] SERVER_KEPT = new Socket[1];
        static final int OPEN_SERVER_BYTES = 7000;

        public static void main(String[] args) throws Exception {
            InetAddress host = InetAddress.getByName(args[0]);
            int n = Integer.parseInt(args[1]);
            int clientBytes = Integer.parseInt(args[2]);
            int serverBytes = Integer.parseInt(args[3]);
            ServerSocket server = new ServerSocket(0, 50, host);
            int port = server.getLocalPort();
            CountDownLatch keptOpen = new CountDownLatch(1);
            Thread serverThread = new Thread(() -> {
                try {
                    System.out.println("server tid=" + Workloads.gettid());
                    for (int i = 0; i < n; i++) {
                        try (Socket s = acceptOne(server)) {
                            readExactly(s.getInputStream(), clientBytes);
                            writeBytes(s.getOutputStream(), serverBytes);
                            if (s.getInputStream().read() != -1) {
                                throw new IOException("client sent more than " + clientBytes);
                            }
                        }
                    }
                    Socket s = acceptOne(server);
                    readExactly(s.getInputStream(), OPEN_CLIENT_BYTES);
                    writeBytes(s.getOutputStream(), OPEN_SERVER_BYTES);
                    SERVER_KEPT[0] = s;
                    keptOpen.countDown();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, "tcp-server");
            serverThread.start();

            Socket[] clientKept = CLIENT_KEPT;
            Workloads.onThread("tcp-client", () -> {
                System.out.println("client tid=" + Workloads.gettid());
                for (int i = 0; i < n; i++) {
                    if (i % 2 == 0) {
                        try (Socket s = connectBlocking(host, port)) {
                            writeBytes(s.getOutputStream(), clientBytes);
                            readExactly(s.getInputStream(), serverBytes);
                        }
                    } else {
                        try (SocketChannel c = connectNonBlocking(host, port)) {
                            c.configureBlocking(true);
                            writeBytes(c.socket().getOutputStream(), clientBytes);
                            readExactly(c.socket().getInputStream(), serverBytes);
                        }
                    }
                }
                int dead;
                try (ServerSocket closed = new ServerSocket(0, 1, host)) {
                    dead = closed.getLocalPort();
                }
                try {
                    connectBlocking(host, dead).close();
                    throw new IllegalStateException("connect to closed port " + dead + " succeeded");
                } catch (SocketException expected) {
                    System.out.println("refused port=" + dead + ": " + expected.getMessage());
                }
                Socket s = connectBlocking(host, port);
                writeBytes(s.getOutputStream(), OPEN_CLIENT_BYTES);
                readExactly(s.getInputStream(), OPEN_SERVER_BYTES);
                clientKept[0] = s;
            });
            serverThread.join();
            keptOpen.await();
            System.out.println("port=" + port + " kept open: client local port " + clientKept[0].getLocalPort());
            // both ends of the last connection stay open until the JVM exits, after the recording ends
        }

        static Socket acceptOne(ServerSocket server) throws IOException {
            return server.accept();
        }

        static Socket connectBlocking(InetAddress host, int port) throws IOException {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(host, port));
                return s;
            } catch (IOException e) {
                s.close();
                throw e;
            }
        }

        /** Netty-style: connect() returns at once, completion comes from a selector. */
        static SocketChannel connectNonBlocking(InetAddress host, int port) throws IOException {
            SocketChannel c = SocketChannel.open();
            c.configureBlocking(false);
            try (Selector selector = Selector.open()) {
                if (!c.connect(new InetSocketAddress(host, port))) {
                    c.register(selector, SelectionKey.OP_CONNECT);
                    while (!c.finishConnect()) {
                        selector.select(1000);
                    }
                }
                return c;
            }
        }
    }

    /**
     * Connects to host:port and writes {@code bytes} from thread "tcp-writer" (method writeAll),
     * then half-closes and waits for the sink's one-byte answer that it got everything.
     */
    static final class Writer {
        public static void main(String[] args) throws Exception {
            InetAddress host = InetAddress.getByName(args[0]);
            int port = Integer.parseInt(args[1]);
            int bytes = Integer.parseInt(args[2]);
            Workloads.onThread("tcp-writer", () -> {
                System.out.println("writer tid=" + Workloads.gettid());
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), 10_000);
                    writeAll(s, bytes);
                    s.shutdownOutput();
                    if (s.getInputStream().read() != 'k') {
                        throw new IOException("the sink did not confirm");
                    }
                    System.out.println("local port=" + s.getLocalPort());
                }
            });
        }

        static void writeAll(Socket s, int bytes) throws IOException {
            writeBytes(s.getOutputStream(), bytes);
        }
    }

    /** Connects to host:port with a timeout from thread "tcp-connector": expects the timeout. */
    static final class ConnectTimeout {
        public static void main(String[] args) throws Exception {
            InetAddress host = InetAddress.getByName(args[0]);
            int port = Integer.parseInt(args[1]);
            int timeoutMs = Integer.parseInt(args[2]);
            Workloads.onThread("tcp-connector", () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), timeoutMs);
                    throw new IllegalStateException("connected to " + host + ":" + port);
                } catch (java.net.SocketTimeoutException expected) {
                    System.out.println("timed out: " + expected.getMessage());
                }
            });
        }
    }

    /** Listens on host:port, reads each connection to its end and answers 'k'. Runs until killed. */
    static final class Sink {
        public static void main(String[] args) throws Exception {
            try (ServerSocket server = new ServerSocket()) {
                server.bind(new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])));
                System.out.println("listening");
                while (true) {
                    try (Socket s = server.accept()) {
                        InputStream in = s.getInputStream();
                        byte[] buffer = new byte[65536];
                        long total = 0;
                        for (int r; (r = in.read(buffer)) >= 0; ) {
                            total += r;
                        }
                        s.getOutputStream().write('k');
                        System.out.println("received " + total);
                    }
                }
            }
        }
    }
}
