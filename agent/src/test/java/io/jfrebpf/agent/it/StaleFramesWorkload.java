package io.jfrebpf.agent.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the demo's request threads do to a frame-pointer walk (StaleFramesIT): thread "mixed"
 * makes native calls 40 Java frames deep ({@link #deep}: a write and a read on a loopback socket
 * pair, a stat), then opens a file from a shallow frame ({@link #openShallow}), for about three
 * seconds. libc's open uses the frame-pointer register for the path, so a walk from the syscall
 * must look for its caller's frame, and the deep calls leave their frames' remnants for it to
 * find. Argument: the file to open.
 */
public final class StaleFramesWorkload {
    static final long RUN_NS = 3_000_000_000L;
    static final byte[] BUFFER = new byte[64];
    static volatile long sink;

    private StaleFramesWorkload() {
    }

    static void deep(int depth, Socket out, Socket in, Path file) throws IOException {
        if (depth > 0) {
            deep(depth - 1, out, in, file);
            sink++;
            return;
        }
        out.getOutputStream().write(BUFFER, 0, 16);
        in.getInputStream().readNBytes(BUFFER, 0, 16);
        sink += Files.size(file);
    }

    static void openShallow(Path file) throws IOException {
        sink += Files.readAllBytes(file).length;
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (ServerSocket server = new ServerSocket(0, 1, loopback); Socket out = new Socket(loopback, server.getLocalPort());
                Socket in = server.accept()) {
            int[] opens = new int[1];
            Thread mixed = new Thread(() -> {
                try {
                    long end = System.nanoTime() + RUN_NS;
                    while (System.nanoTime() < end) {
                        deep(40, out, in, file);
                        openShallow(file);
                        opens[0]++;
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, "mixed");
            mixed.start();
            mixed.join();
            System.out.println("opens " + opens[0]);
        }
    }
}
