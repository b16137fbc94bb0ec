package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.ProcFds;
import io.jfrebpf.agent.os.ProcNetTcp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the PostgreSQL backends at the other end of our TCP connections, from {@code /proc}.
 *
 * <p>Servers: a {@code postgres} process whose parent is not one is a postmaster; its port comes
 * from the {@code postmaster.pid} of its data directory (its working directory), or where that
 * is not readable, from the socket it listens on. Looked for at start and every
 * {@link #SERVERS_REFRESH_NS}.
 *
 * <p>Backends: the postmaster forks one per connection and titles it {@code postgres: user
 * database host(port) activity} — the port being our end's. A connect of ours to a server's
 * port (the tcp probe tells) is matched against the titles of that postmaster's children
 * ({@code /proc/pid/task/pid/children}): a few small reads. Where titles or that file are
 * missing, and for connections opened before the agent, the socket tables are used instead:
 * the other end of our socket held by a postgres process. Those tables cost ~4.5 ms each to
 * read here (the kernel walks every hash bucket), so they are read at start, and after that
 * only when needed (or every {@link #TABLE_SCAN_NS} when no tcp probe reports connects).
 */
final class PostgresDiscovery {
    /** A backend serving one of our connections; {@code ours} is our end as the kernel's socket holds it. */
    record Backend(int pid, int postmasterPid, Ours ours) {
    }

    /** Our end of a connection: family of our socket, its addresses (network order), ports. */
    record Ours(int family, byte[] localAddress, int localPort, byte[] remoteAddress, int remotePort) {
    }

    record Server(int postmasterPid, int port) {
    }

    static final long SERVERS_REFRESH_NS = 10_000_000_000L;
    /** Without connect events: how often the socket tables are read for new connections. */
    static final long TABLE_SCAN_NS = 5_000_000_000L;
    /** A connect whose backend is not found for this long is given up. */
    static final long GIVE_UP_NS = 5_000_000_000L;
    /** After this long without a title naming our port, the socket tables are tried. */
    static final long TITLE_WAIT_NS = 300_000_000L;

    private final Map<Integer, Server> serversByPid = new HashMap<>();
    private final Set<Integer> deniedPids = new HashSet<>();
    private long serversReadNs;
    private boolean serversRead;
    private final List<Pending> pending = new ArrayList<>();
    private String problem;
    private long tableScans;

    private static final class Pending {
        final Ours ours;
        final Server server;
        final long sinceNs;

        Pending(Ours ours, Server server, long sinceNs) {
            this.ours = ours;
            this.server = server;
            this.sinceNs = sinceNs;
        }
    }

    /** The postmasters of this host we can see, refreshed at most every {@link #SERVERS_REFRESH_NS}. */
    Map<Integer, Server> servers(long nowNs) {
        if (!serversRead || nowNs - serversReadNs >= SERVERS_REFRESH_NS) {
            serversRead = true;
            serversReadNs = nowNs;
            Map<Integer, Server> before = new HashMap<>(serversByPid);
            serversByPid.clear();
            try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), PIDS)) {
                for (Path proc : procs) {
                    if (!isPostgres(proc) || isPostgres(Path.of("/proc", String.valueOf(parentOf(proc))))) {
                        continue; // not postgres, or a postmaster's child
                    }
                    int pid = Integer.parseInt(proc.getFileName().toString());
                    Server s = before.containsKey(pid) ? before.get(pid) : server(proc, pid);
                    if (s != null) {
                        serversByPid.put(pid, s);
                    }
                }
            } catch (IOException | RuntimeException e) {
                Log.debug("postgres: cannot list processes: %s", e);
            }
        }
        return serversByPid;
    }

    /**
     * A postmaster's port: from the postmaster.pid of its data directory (its working
     * directory), else — that directory is the server user's alone, mode 0700 — from the TCP
     * sockets it listens on (its descriptors and its namespace's socket table, read once).
     */
    private Server server(Path proc, int pid) {
        try {
            Integer port = portFromPidFile(Files.readString(proc.resolve("cwd").resolve("postmaster.pid")), pid);
            if (port != null) {
                return new Server(pid, port);
            }
        } catch (IOException e) {
            // not readable by us: try its sockets
        }
        try {
            Set<Long> inodes = ProcFds.socketInodes(String.valueOf(pid));
            tableScans++;
            for (ProcNetTcp.Socket s : ProcNetTcp.read(String.valueOf(pid))) {
                if (s.state() == ProcNetTcp.LISTEN && inodes.contains(s.inode())) {
                    return new Server(pid, s.localPort());
                }
            }
            return null; // Unix sockets only
        } catch (AccessDeniedException e) {
            denied(pid, e);
            return null;
        } catch (IOException e) {
            return null; // ended meanwhile
        }
    }

    /** The port in a postmaster.pid file when its first line is {@code pid} (else a child's view of its parent's file). */
    static Integer portFromPidFile(String text, int pid) {
        String[] lines = text.split("\n");
        if (lines.length < 4 || !lines[0].strip().equals(String.valueOf(pid))) {
            return null;
        }
        try {
            int port = Integer.parseInt(lines[3].strip());
            return port > 0 && port <= 0xffff ? port : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The postmasters as last read, without reading again. */
    Map<Integer, Server> knownServers() {
        return Map.copyOf(serversByPid);
    }

    /** A connect of ours completed: if to a local PostgreSQL server, its backend will be looked for. */
    void connected(Ours ours, long nowNs) {
        for (Server s : servers(nowNs).values()) {
            if (s.port() == ours.remotePort() && isLocal(ours.remoteAddress())) {
                pending.add(new Pending(ours, s, nowNs));
                return;
            }
        }
    }

    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** Looks for the backends of the pending connects; returns those found. */
    List<Backend> resolvePending(long nowNs) {
        List<Backend> found = new ArrayList<>();
        List<ProcNetTcp.Socket> table = null;
        for (int i = pending.size() - 1; i >= 0; i--) {
            Pending p = pending.get(i);
            Integer backend = backendByTitle(p.server.postmasterPid(), p.ours);
            if (backend == null && nowNs - p.sinceNs >= TITLE_WAIT_NS) {
                try {
                    if (table == null) {
                        table = ProcNetTcp.read("self");
                        tableScans++;
                    }
                    backend = backendBySocket(p.ours, table, p.server.postmasterPid());
                } catch (IOException e) {
                    Log.debug("postgres: socket tables: %s", e);
                }
            }
            if (backend != null) {
                found.add(new Backend(backend, p.server.postmasterPid(), p.ours));
                pending.remove(i);
            } else if (nowNs - p.sinceNs >= GIVE_UP_NS) {
                pending.remove(i);
                problem = "found no backend of postmaster " + p.server.postmasterPid() + " for our connection from port "
                        + p.ours.localPort() + " in " + GIVE_UP_NS / 1_000_000_000L + " s"
                        + (deniedPids.isEmpty() ? "" : deniedHint());
                Log.debug("postgres: %s", problem);
            }
        }
        return found;
    }

    /**
     * Every established connection of ours to a local PostgreSQL server, from the socket tables
     * and fd tables: at start (connections opened before the agent) and when no connect events come.
     */
    List<Backend> scanTables(long nowNs, Set<Integer> known) throws IOException {
        Map<Integer, Server> servers = servers(nowNs);
        if (servers.isEmpty()) {
            return List.of();
        }
        Set<Integer> ports = new HashSet<>();
        for (Server s : servers.values()) {
            ports.add(s.port());
        }
        List<ProcNetTcp.Socket> table = ProcNetTcp.read("self");
        tableScans++;
        List<ProcNetTcp.Socket> candidates = new ArrayList<>();
        for (ProcNetTcp.Socket c : table) {
            if (c.state() == ProcNetTcp.ESTABLISHED && ports.contains(c.remotePort()) && isLocal(c.remoteAddress())) {
                candidates.add(c);
            }
        }
        if (candidates.isEmpty()) {
            return List.of();
        }
        Set<Long> ours = ProcFds.socketInodes("self");
        List<Backend> found = new ArrayList<>();
        for (ProcNetTcp.Socket c : candidates) {
            if (!ours.contains(c.inode())) {
                continue; // another client of the same server (psql...)
            }
            Ours o = new Ours(c.family(), c.localAddress(), c.localPort(), c.remoteAddress(), c.remotePort());
            for (Server s : servers.values()) {
                if (s.port() != c.remotePort()) {
                    continue;
                }
                Integer backend = backendByTitle(s.postmasterPid(), o);
                if (backend == null) {
                    backend = backendBySocket(o, table, s.postmasterPid());
                }
                if (backend != null && !known.contains(backend)) {
                    found.add(new Backend(backend, s.postmasterPid(), o));
                }
            }
        }
        return found;
    }

    long tableScans() {
        return tableScans;
    }

    /** Why the last backend could not be found, or why postgres processes could not be looked into; or null. */
    String problem() {
        if (problem != null) {
            return problem;
        }
        return deniedPids.isEmpty() ? null
                : "could not look into postgres process " + deniedPids.iterator().next() + deniedHint();
    }

    /** The child of the postmaster whose title names our end (address and port) as its client. */
    private Integer backendByTitle(int postmaster, Ours ours) {
        for (int child : children(postmaster)) {
            try {
                String title = Files.readString(Path.of("/proc", String.valueOf(child), "cmdline"));
                if (titleNamesClient(title, ours.localAddress(), ours.localPort())) {
                    return child;
                }
            } catch (IOException e) {
                // ended meanwhile
            }
        }
        return null;
    }

    /** The child of the postmaster holding the server end of our connection, through the socket tables. */
    private Integer backendBySocket(Ours ours, List<ProcNetTcp.Socket> table, int postmaster) {
        for (ProcNetTcp.Socket p : table) {
            if (p.inode() == 0 || p.localPort() != ours.remotePort() || p.remotePort() != ours.localPort()
                    || !ProcNetTcp.sameAddress(p.localAddress(), ours.remoteAddress())
                    || !ProcNetTcp.sameAddress(p.remoteAddress(), ours.localAddress())) {
                continue; // inode 0: not accepted yet
            }
            for (int child : children(postmaster)) {
                try {
                    if (ProcFds.socketInodes(String.valueOf(child)).contains(p.inode())) {
                        return child;
                    }
                } catch (AccessDeniedException e) {
                    denied(child, e);
                } catch (IOException e) {
                    // ended meanwhile
                }
            }
        }
        return null;
    }

    /** The postmaster's children (CONFIG_PROC_CHILDREN); else every postgres process whose parent it is. */
    private static List<Integer> children(int postmaster) {
        List<Integer> pids = new ArrayList<>();
        String p = String.valueOf(postmaster);
        try {
            for (String child : Files.readString(Path.of("/proc", p, "task", p, "children")).strip().split("\\s+")) {
                if (isPid(child)) {
                    pids.add(Integer.parseInt(child));
                }
            }
            return pids;
        } catch (IOException e) {
            // no such file on this kernel: by parent
        }
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), PIDS)) {
            for (Path proc : procs) {
                if (isPostgres(proc) && parentOf(proc) == postmaster) {
                    pids.add(Integer.parseInt(proc.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            Log.debug("postgres: cannot list processes: %s", e);
        }
        return pids;
    }

    private static int parentOf(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(f[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private void denied(int pid, AccessDeniedException e) {
        if (deniedPids.add(pid) && deniedPids.size() == 1) {
            Log.info("postgres: cannot look into postgres process %d (%s)%s", pid, e.getMessage(), deniedHint());
        }
    }

    private static String deniedHint() {
        return "; a JVM running as another user than PostgreSQL needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH to find and"
                + " follow its backends";
    }

    /** Loopback, or the address the kernel gives an unbound local socket: a server on this host. */
    static boolean isLocal(byte[] address) {
        try {
            InetAddress a = InetAddress.getByAddress(ProcNetTcp.unmapped(address));
            return a.isLoopbackAddress() || NetworkInterface.getByInetAddress(a) != null;
        } catch (IOException e) {
            return false;
        }
    }

    static boolean isPostgres(Path proc) {
        try {
            String comm = Files.readString(proc.resolve("comm")).strip();
            return comm.equals("postgres") || comm.equals("postmaster");
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isPid(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a backend's process title ({@code postgres: [cluster: ]user database host(port)
     * activity}, set by PostgreSQL when update_process_title is on, the default on Linux) names
     * this client. A host shown by name (log_hostname) matches on the port alone.
     */
    static boolean titleNamesClient(String cmdline, byte[] address, int port) {
        String[] words = titleWords(cmdline);
        if (words == null) {
            return false;
        }
        String suffix = "(" + port + ")";
        String client = words[2];
        if (!client.endsWith(suffix)) {
            return false;
        }
        String host = client.substring(0, client.length() - suffix.length());
        InetAddress shown;
        try {
            shown = InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            return true; // a host name
        }
        return ProcNetTcp.sameAddress(shown.getAddress(), address);
    }

    /** The database of a backend from its process title; null before it is set, or for other processes. */
    static String databaseFromTitle(String cmdline) {
        String[] words = titleWords(cmdline);
        return words == null ? null : words[1];
    }

    /** user, database, host(port), activity... of a backend's title; null when it is not one. */
    private static String[] titleWords(String cmdline) {
        String title = cmdline.replace('\0', ' ').strip();
        if (!title.startsWith("postgres: ")) {
            return null;
        }
        String[] words = title.substring("postgres: ".length()).strip().split("\\s+");
        int i = 0;
        if (words.length > 0 && words[0].endsWith(":")) {
            i = 1; // cluster_name, e.g. "15/main:"
        }
        if (words.length < i + 3 || !words[i + 2].endsWith(")") || !words[i + 2].contains("(")) {
            return null; // an auxiliary process ("postgres: checkpointer") or a title not set yet
        }
        return new String[] {words[i], words[i + 1], words[i + 2]};
    }

    /** The processes' directories of /proc (a class, not a lambda: each costs a spun class at start-up). */
    private static final DirectoryStream.Filter<Path> PIDS = new DirectoryStream.Filter<>() {
        @Override
        public boolean accept(Path p) {
            return isPid(p.getFileName().toString());
        }
    };
}
