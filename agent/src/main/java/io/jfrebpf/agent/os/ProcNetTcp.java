package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The TCP sockets of a network namespace, as {@code /proc/<pid>/net/tcp} and {@code tcp6} list
 * them: both ends, state and inode. Addresses are the bytes the kernel holds (network order):
 * the files print each 32-bit word of an address as the CPU reads it.
 */
public final class ProcNetTcp {
    public static final int ESTABLISHED = 1;
    public static final int LISTEN = 10;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;

    /** One socket: {@code family} is AF_INET for the tcp file, AF_INET6 for tcp6 (whose IPv4 peers are mapped). */
    public record Socket(int family, byte[] localAddress, int localPort, byte[] remoteAddress, int remotePort, int state,
            long inode) {
        /**
         * Whether this is the other end of {@code s}: ends swapped. The two may differ in family: a
         * dual-stack (AF_INET6) client's peer on an IPv4 server socket holds the same addresses unmapped.
         */
        public boolean isPeerOf(Socket s) {
            return localPort == s.remotePort && remotePort == s.localPort && sameAddress(localAddress, s.remoteAddress)
                    && sameAddress(remoteAddress, s.localAddress);
        }

        /** Whether a connection to {@code address:port} reaches this listening socket (its address, or any). */
        public boolean accepts(byte[] address, int port) {
            if (state != LISTEN || port != localPort) {
                return false;
            }
            return sameAddress(localAddress, address) || isAny(localAddress);
        }

        @Override
        public String toString() {
            return hex(localAddress) + ":" + localPort + "->" + hex(remoteAddress) + ":" + remotePort + " st " + state
                    + " inode " + inode;
        }
    }

    private ProcNetTcp() {
    }

    /** The sockets of the network namespace of process {@code pid} ("self" for ours), IPv4 and IPv6. */
    public static List<Socket> read(String pid) throws IOException {
        List<Socket> all = new ArrayList<>();
        Path base = Path.of("/proc", pid, "net");
        all.addAll(parse(Files.readString(base.resolve("tcp")), AF_INET));
        Path v6 = base.resolve("tcp6");
        if (Files.exists(v6)) { // a kernel without IPv6
            all.addAll(parse(Files.readString(v6), AF_INET6));
        }
        return all;
    }

    /** Parses the text of a tcp or tcp6 file; malformed lines are skipped. */
    public static List<Socket> parse(String text, int family) {
        List<Socket> sockets = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            if (f.length < 10 || !f[0].endsWith(":")) {
                continue;
            }
            try {
                Endpoint local = endpoint(f[1], family);
                Endpoint remote = endpoint(f[2], family);
                int state = Integer.parseInt(f[3], 16);
                long inode = Long.parseLong(f[9]);
                sockets.add(new Socket(family, local.address, local.port, remote.address, remote.port, state, inode));
            } catch (IllegalArgumentException e) {
                // not a socket line
            }
        }
        return sockets;
    }

    private record Endpoint(byte[] address, int port) {
    }

    private static Endpoint endpoint(String field, int family) {
        int colon = field.indexOf(':');
        String hex = field.substring(0, Math.max(colon, 0));
        int width = family == AF_INET ? 4 : 16;
        if (colon < 0 || hex.length() != width * 2) {
            throw new IllegalArgumentException("bad address " + field);
        }
        ByteBuffer b = ByteBuffer.allocate(width).order(ByteOrder.nativeOrder());
        for (int i = 0; i < width / 4; i++) {
            b.putInt((int) Long.parseLong(hex.substring(i * 8, i * 8 + 8), 16));
        }
        int port = Integer.parseInt(field.substring(colon + 1), 16);
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("bad port " + field);
        }
        return new Endpoint(b.array(), port);
    }

    /** Equal addresses, an IPv4-mapped IPv6 address (::ffff:a.b.c.d) being equal to its IPv4 address. */
    public static boolean sameAddress(byte[] a, byte[] b) {
        return Arrays.equals(unmapped(a), unmapped(b));
    }

    /** The IPv4 address of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else the address itself. */
    public static byte[] unmapped(byte[] address) {
        if (address.length != 16) {
            return address;
        }
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return address;
            }
        }
        if (address[10] != (byte) 0xff || address[11] != (byte) 0xff) {
            return address;
        }
        return Arrays.copyOfRange(address, 12, 16);
    }

    static boolean isAny(byte[] address) {
        for (byte b : address) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    static String hex(byte[] address) {
        StringBuilder s = new StringBuilder();
        for (byte b : address) {
            s.append(String.format("%02x", b));
        }
        return s.toString();
    }
}
