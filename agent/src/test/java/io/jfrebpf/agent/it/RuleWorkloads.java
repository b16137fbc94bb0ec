package io.jfrebpf.agent.it;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Workloads made to trigger one JMC rule each, written the way the mistake looks in real code,
 * and a clean one that does the same kinds of work the right way (RulesIT).
 */
final class RuleWorkloads {
    private RuleWorkloads() {
    }

    static final int REREADS = 500;
    static final int REQUESTS = 300;

    /** Reads its settings file again on every request instead of once. Args: directory. */
    static final class SettingsReread {
        public static void main(String[] args) throws Exception {
            Path settings = Files.writeString(Path.of(args[0], "settings.properties"), "greeting=hello\n");
            int served = 0;
            for (int i = 0; i < REREADS; i++) {
                served += readSettings(settings).getProperty("greeting").length();
            }
            System.out.println("served " + served);
        }

        static Properties readSettings(Path file) throws IOException {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
            return p;
        }
    }

    /** A client that opens a new loopback connection for every request: no pool, no keep-alive. */
    static final class NoPool {
        public static void main(String[] args) throws Exception {
            try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                Thread t = new Thread(() -> serve(server), "echo-server");
                t.setDaemon(true);
                t.start();
                int answered = 0;
                for (int i = 0; i < REQUESTS; i++) {
                    answered += request(server.getLocalPort());
                }
                System.out.println("answered " + answered);
            }
        }

        static int request(int port) throws IOException {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                s.getOutputStream().write(42);
                return s.getInputStream().read() == 42 ? 1 : 0;
            }
        }

        static void serve(ServerSocket server) {
            while (true) {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write(s.getInputStream().read());
                } catch (IOException e) {
                    return;
                }
            }
        }
    }

    /**
     * A request thread blocked on a lock another thread holds for 1.5 s (a slow critical
     * section): a monitor (synchronized) or a ReentrantLock. Args: monitor|lock.
     */
    static final class Contention {
        static final Object LOCK = new Object();
        static final ReentrantLock REENTRANT = new ReentrantLock();
        static long counter;

        public static void main(String[] args) throws Exception {
            boolean monitor = args[0].equals("monitor");
            Thread holder = new Thread(() -> {
                if (monitor) {
                    synchronized (LOCK) {
                        hold();
                    }
                } else {
                    REENTRANT.lock();
                    try {
                        hold();
                    } finally {
                        REENTRANT.unlock();
                    }
                }
            }, "lock-holder");
            holder.start();
            Thread.sleep(200);
            Thread waiter = new Thread(monitor ? Contention::updateShared : Contention::updateGuarded, "request-worker");
            waiter.start();
            holder.join();
            waiter.join();
            System.out.println("counter " + counter);
        }

        static void hold() {
            System.out.println("holding");
            try {
                Thread.sleep(1500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        static void updateShared() {
            synchronized (LOCK) {
                counter++;
            }
        }

        static void updateGuarded() {
            REENTRANT.lock();
            try {
                counter++;
            } finally {
                REENTRANT.unlock();
            }
        }
    }

    /** Writes its log to a pipe whose reader is slow: each write() waits in the kernel for room. */
    static final class SlowPipe {
        public static void main(String[] args) throws Exception {
            Pipe pipe = Pipe.open();
            Thread reader = new Thread(() -> {
                ByteBuffer b = ByteBuffer.allocate(16 * 1024);
                try {
                    while (pipe.source().read(b.clear()) >= 0) {
                        Thread.sleep(20);
                    }
                } catch (IOException | InterruptedException e) {
                    // closed
                }
            }, "log-shipper");
            reader.setDaemon(true);
            reader.start();
            Thread writer = new Thread(() -> writeLog(pipe.sink(), 1 << 20), "request-logger");
            writer.start();
            writer.join();
            pipe.sink().close();
            System.out.println("logged");
        }

        static void writeLog(Pipe.SinkChannel sink, int bytes) {
            ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
            try {
                for (int written = 0; written < bytes; written += chunk.capacity()) {
                    chunk.clear();
                    while (chunk.hasRemaining()) {
                        sink.write(chunk);
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /**
     * The same kinds of work done the right way: each file read once, requests over one kept-alive
     * connection, no lock held across a wait, no pipe filled faster than it drains. Args: directory.
     */
    static final class Clean {
        public static void main(String[] args) throws Exception {
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                files.add(Files.writeString(Path.of(args[0], "data-" + i + ".txt"), "line " + i + "\n"));
            }
            long size = 0;
            for (Path f : files) {
                size += Files.readAllBytes(f).length;
            }
            try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                Thread t = new Thread(() -> echoAll(server), "echo-server");
                t.setDaemon(true);
                t.start();
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                    OutputStream out = s.getOutputStream();
                    InputStream in = s.getInputStream();
                    for (int i = 0; i < REQUESTS; i++) {
                        out.write(i & 0x7f);
                        size += in.read();
                    }
                }
            }
            long sum = 0;
            for (long end = System.nanoTime() + 1_000_000_000L; System.nanoTime() < end;) {
                sum += Long.numberOfTrailingZeros(System.nanoTime());
            }
            System.out.println("size " + size + " sum " + sum);
        }

        static void echoAll(ServerSocket server) {
            try (Socket s = server.accept()) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                for (int b; (b = in.read()) >= 0;) {
                    out.write(b);
                }
            } catch (IOException e) {
                // the client closed
            }
        }
    }

    /** Rounds of {@link JdkIdle}; the idle threads' waits span the pauses between them. */
    static final int IDLE_ROUNDS = 3;

    /**
     * A service whose own threads do little while the JDK's daemon threads idle, each waiting
     * for its kind of work and woken by it now and then: virtual threads contend for a monitor
     * (the VirtualThread-unblocker waits in VirtualThread.takeVirtualThreadListToUnblock and is
     * woken when one is released), a child process runs (its "process reaper" waits in
     * ProcessHandleImpl.waitForProcessExit0), a stream left unclosed becomes unreachable
     * (the Common-Cleaner waits on its queue), all with pauses of 1.2 s between rounds.
     * Args: none.
     */
    static final class JdkIdle {
        static final Object MONITOR = new Object();
        static long counter;

        public static void main(String[] args) throws Exception {
            Process child = new ProcessBuilder("sleep", "3").start();
            for (int round = 0; round < IDLE_ROUNDS; round++) {
                try (ExecutorService vthreads = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int i = 0; i < 8; i++) {
                        vthreads.submit(JdkIdle::update);
                    }
                }
                FileInputStream unclosed = new FileInputStream("/proc/self/stat"); // closed by the Common-Cleaner
                counter += unclosed.read();
                unclosed = null;
                System.gc();
                Thread.sleep(1200);
            }
            System.out.println("counter " + counter + " child " + child.waitFor());
        }

        /** A short critical section in which the virtual thread sleeps: the others block on the monitor, unmounted. */
        static void update() {
            synchronized (MONITOR) {
                counter++;
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
