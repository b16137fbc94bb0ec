package io.jfrebpf.junit;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;

/**
 * Test classes as users write them, run by ExtensionIT through the JUnit Platform (their names
 * keep Surefire and Failsafe from running them on their own): each pair has one test that must
 * pass and one whose kernel assertion must fail.
 */
final class ExtensionSamples {
    private ExtensionSamples() {
    }

    static void fsyncs(Path file, int times) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (int i = 0; i < times; i++) {
                ch.write(ByteBuffer.wrap(("line " + i + "\n").getBytes()));
                ch.force(true);
            }
        }
    }

    @EbpfRecording
    static class Fsync {
        @Test
        void twoFsyncsAreWithinThree(KernelEvents kernel) throws Exception {
            fsyncs(Files.createTempFile("fsync", ".txt"), 2);
            kernel.assertSyscallsAtMost("fsync", 3);
        }

        @Test
        void fiveFsyncsAreNot(KernelEvents kernel) throws Exception {
            fsyncs(Files.createTempFile("fsync", ".txt"), 5);
            kernel.assertSyscallsAtMost("fsync", 3);
        }
    }

    static Path forbidden;

    @EbpfRecording
    static class Opens {
        @Test
        void opensElsewhereAreFine(KernelEvents kernel) throws Exception {
            Files.readString(Files.writeString(Files.createTempFile("allowed", ".txt"), "x"));
            kernel.assertNoFileOpensUnder(forbidden);
        }

        @Test
        void anOpenUnderTheDirectoryFails(KernelEvents kernel) throws Exception {
            Files.readString(forbidden.resolve("secret.txt"));
            kernel.assertNoFileOpensUnder(forbidden);
        }
    }

    static int forbiddenPort;
    static int allowedPort;

    static void connect(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write(1);
        }
    }

    @EbpfRecording
    static class Connections {
        @Test
        void aConnectionToAnotherPortIsFine(KernelEvents kernel) throws Exception {
            connect(allowedPort);
            kernel.assertNoConnectionTo(forbiddenPort);
        }

        @Test
        void aConnectionToThePortFails(KernelEvents kernel) throws Exception {
            connect(forbiddenPort);
            kernel.assertNoConnectionTo(forbiddenPort);
        }
    }

    /** A loopback server that accepts and drains connections, for the Connections samples. */
    static ServerSocket server() throws IOException {
        ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!s.isClosed()) {
                try (Socket c = s.accept(); InputStream in = c.getInputStream()) {
                    in.readAllBytes();
                } catch (IOException e) {
                    // closed
                }
            }
        }, "sample-server-" + s.getLocalPort());
        t.setDaemon(true);
        t.start();
        return s;
    }
}
