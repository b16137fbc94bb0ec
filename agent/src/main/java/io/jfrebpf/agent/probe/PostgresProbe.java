package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.bpf.PostgresLayout;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfLink;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.BpfProgram;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.KernelBtf;
import io.jfrebpf.agent.os.ProcMaps;
import io.jfrebpf.agent.os.UsdtArgument;
import io.jfrebpf.agent.os.UsdtNotes;
import io.jfrebpf.bpf.PostgresObject;
import io.jfrebpf.events.PostgresQueryEvent;
import io.jfrebpf.events.read.EventNames;
import java.io.IOException;
import java.net.InetAddress;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * {@code postgres}: {@code ebpf.PostgresQuery} for each statement a PostgreSQL server on this host
 * runs for one of our connections, timed by the server through its USDT probes, on the Java
 * thread and stack that sent it (bpf/postgres.bpf.c says how).
 *
 * <p>Nothing is loaded while no PostgreSQL server runs on this host (looked for at start and
 * every {@link PostgresDiscovery#SERVERS_REFRESH_NS}): a JVM without one pays a look at /proc
 * now and then. Once there is one, the object is loaded, and nothing is attached until a
 * backend serving us is found ({@link PostgresDiscovery}: at once after a connect of ours to a
 * PostgreSQL port — told by the tcp probe, or without it by this object's own {@code
 * pg_connect} — and from the socket tables at load and every few seconds): then the USDT
 * programs are attached to that backend's pid alone, and detached when its connection closes.
 * It taxes no other process.
 */
public final class PostgresProbe extends BpfProbe {
    /** A USDT probe of PostgreSQL and its number in pg_usdt's cookie (bpf/postgres.h); {@code text}: its first argument is the SQL. */
    record Usdt(String probe, int kind, boolean text) {
    }

    static final String PROVIDER = "postgresql";
    static final String PROGRAM = PostgresObject.Programs.PG_USDT;
    static final List<Usdt> USDTS = List.of(
            new Usdt("query__start", (int) PostgresLayout.PG_QUERY_START, true),
            new Usdt("query__done", (int) PostgresLayout.PG_QUERY_DONE, false),
            new Usdt("query__parse__start", (int) PostgresLayout.PG_QUERY_PARSE_START, true),
            new Usdt("query__plan__start", (int) PostgresLayout.PG_QUERY_PLAN_START, false),
            new Usdt("query__execute__start", (int) PostgresLayout.PG_QUERY_EXECUTE_START, false),
            new Usdt("query__execute__done", (int) PostgresLayout.PG_QUERY_EXECUTE_DONE, false),
            new Usdt("lock__wait__start", (int) PostgresLayout.PG_LOCK_WAIT_START, false),
            new Usdt("lock__wait__done", (int) PostgresLayout.PG_LOCK_WAIT_DONE, false),
            new Usdt("transaction__abort", (int) PostgresLayout.PG_TRANSACTION_ABORT, false));
    static final int ARG_NONE = (int) PostgresLayout.PG_ARG_NONE;
    static final int ARG_REGISTER = (int) PostgresLayout.PG_ARG_REGISTER;
    static final int ARG_MEMORY = (int) PostgresLayout.PG_ARG_MEMORY;
    /** As many as bpf/postgres.bpf.c's maps hold (PG_BACKENDS_MAX). */
    static final int MAX_BACKENDS = 128;
    static final String SENDER_TRACEPOINT = PostgresObject.Programs.SOCK_SEND_LENGTH; // the program is named after its tracepoint
    /** Our connects to a PostgreSQL port, when no tcp probe reports connects (bpf/postgres.bpf.c). */
    static final String CONNECT_PROGRAM = PostgresObject.Programs.PG_CONNECT;
    /**
     * Attaching to a backend takes 6-15 ms of the agent's thread here (the kernel registers a
     * uprobe per site): a service opening connections faster than this (no pool) is followed
     * for this many a second, the others counted in ProbeStatus.
     */
    static final int MAX_FOLLOWS_PER_SECOND = 20;

    private static final class Followed {
        final PostgresDiscovery.Backend backend;
        final List<BpfLink> links = new ArrayList<>();
        final byte[] connectionKey;
        final long followedAtNs = System.nanoTime();
        String database;

        Followed(PostgresDiscovery.Backend backend, byte[] connectionKey) {
            this.backend = backend;
            this.connectionKey = connectionKey;
        }
    }

    private final Map<Integer, Followed> followed = new HashMap<>();
    private final PostgresDiscovery discovery = new PostgresDiscovery();
    private final TreeSet<String> binaries = new TreeSet<>();
    /** Per binary version: debug_query_string's distance from where the binary's first page is mapped. */
    private final Map<String, OptionalLong> debugQueryStringOffsets = new HashMap<>();
    private boolean redact;
    private boolean senderAvailable;
    /** uprobe_multi links (Linux 6.6+): one link a backend; else one perf uprobe a site. */
    private boolean multi;
    /** Per binary version: the sites of the probes, their cookies and semaphores. */
    private final Map<String, Sites> sitesByBinary = new HashMap<>();
    /** Backends let go of recently: their last records may still be in the ring buffer. */
    private final Map<Integer, Followed> retired = new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Followed> eldest) {
            return size() > MAX_BACKENDS;
        }
    };
    private long detachesRefused;
    /** Statements repeat: each text is redacted once (at most 512 kept: 4 MB at worst, with texts of 2,047 bytes). */
    private final Map<String, String> redacted = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > 512;
        }
    };
    private long followWindowNs;
    private int followsInWindow;
    private BpfLink senderLink;
    private long backendsFollowed;
    private long backendsNotFollowed;
    private String lastFailure;
    private long lastTableScanNs;
    /** Our own connect watcher is loaded (no tcp probe tells of connects). */
    private boolean watchesConnects;
    /** Server ports written to pg_ports. */
    private final java.util.Set<Integer> portsWatched = new java.util.HashSet<>();
    private boolean toldFollowing;
    private boolean loadFailed;
    /** Time spent finding backends and attaching to them, on the poller thread. */
    private long lookNanos;

    public PostgresProbe() {
        super("postgres", PostgresObject.OBJECT, PostgresObject.Maps.EVENTS);
    }

    /** Loads nothing while no PostgreSQL server runs here; connects the tcp probe reports are listened to from now on. */
    @Override
    protected boolean loadsLater() {
        context.connects().add(new Connects(this));
        boolean none = discovery.servers(System.nanoTime()).isEmpty();
        if (none) {
            Log.debug("postgres: no PostgreSQL server on this host; nothing loaded until one appears");
        }
        return none;
    }

    /** Loads the object once a server has appeared; false when that failed (logged once, counted in the status). */
    private boolean ensureLoaded(long nowNs) {
        if (loaded()) {
            return true;
        }
        if (loadFailed || discovery.servers(nowNs).isEmpty()) {
            return false;
        }
        try {
            loadDeferred();
            Log.debug("postgres: a PostgreSQL server appeared on this host; loaded");
            return true;
        } catch (Exception | LinkageError e) {
            lastFailure = "cannot load: " + io.jfrebpf.agent.Failures.explain(e);
            Log.warn("postgres: %s", lastFailure);
            loadFailed = true; // said once; not tried again
            return false;
        }
    }

    @Override
    protected void configure(BpfObject object) throws BpfException {
        redact = context.options().postgresRedact();
        watchesConnects = !context.connects().producing();
        object.program(CONNECT_PROGRAM).setAutoload(watchesConnects);
        try {
            senderAvailable = KernelBtf.hasTracepoint(SENDER_TRACEPOINT);
        } catch (IOException e) {
            Log.debug("postgres: cannot read the kernel's BTF (%s); loading %s anyway", e.getMessage(), SENDER_TRACEPOINT);
            senderAvailable = true;
        }
        object.program(SENDER_TRACEPOINT).setAutoload(senderAvailable);
        try {
            multi = KernelBtf.hasString("bpf_uprobe_multi_link");
        } catch (IOException e) {
            multi = false;
        }
        if (multi) {
            object.program(PROGRAM).setExpectedAttachType(BpfProgram.UPROBE_MULTI);
        }
    }

    /** pg_usdt's attach points in one binary: file offsets, cookies (bpf/postgres.h), semaphore offsets. */
    record Sites(long[] offsets, long[] cookies, long[] semaphores, int probes) {
    }

    /** The sites of the USDT probes we use in a PostgreSQL binary, read once per binary version. */
    Sites sites(Path exe, String version) throws IOException {
        Sites cached = sitesByBinary.get(version);
        if (cached != null) {
            return cached;
        }
        List<long[]> found = new ArrayList<>();
        java.util.Set<String> probes = new java.util.HashSet<>();
        for (UsdtNotes.Site site : UsdtNotes.read(exe)) {
            if (!site.provider().equals(PROVIDER)) {
                continue;
            }
            for (Usdt u : USDTS) {
                if (u.probe().equals(site.name())) {
                    List<String> args = site.argumentList();
                    UsdtArgument first = u.text() && !args.isEmpty() ? UsdtArgument.parse(args.get(0)) : UsdtArgument.NONE;
                    found.add(new long[] {site.offset(), cookie(u.kind(), first), site.semaphoreOffset()});
                    probes.add(u.probe());
                }
            }
        }
        if (found.isEmpty()) {
            throw new IOException(exe + " has no USDT probes of provider " + PROVIDER
                    + " (PostgreSQL built without --enable-dtrace)");
        }
        Sites sites = new Sites(found.stream().mapToLong(f -> f[0]).toArray(), found.stream().mapToLong(f -> f[1]).toArray(),
                found.stream().mapToLong(f -> f[2]).toArray(), probes.size());
        if (sitesByBinary.size() > 16) {
            sitesByBinary.clear(); // upgraded binaries: bounded
        }
        sitesByBinary.put(version, sites);
        return sites;
    }

    /** pg_usdt's cookie: the probe, and where its first argument is (8-byte values only). */
    static long cookie(int kind, UsdtArgument first) {
        int argKind = switch (first.kind()) {
            case REGISTER -> ARG_REGISTER;
            case MEMORY -> ARG_MEMORY;
            case NONE -> ARG_NONE;
        };
        if (first.size() != 8) {
            argKind = ARG_NONE;
        }
        return (kind & 0xffL) | ((long) argKind << 8) | ((long) (first.ptRegsOffset() & 0xffff) << 16)
                | ((long) first.displacement() << 32);
    }

    @Override
    protected void attach(BpfObject object) throws Exception {
        long now = System.nanoTime();
        if (watchesConnects) {
            watchPorts(now);
            object.program(CONNECT_PROGRAM).attach();
            context.poller().add(object.map(PostgresObject.Maps.CONNECTS), this::onConnectRecord);
        }
        scanTables(now); // connections opened before (attach to a running JVM, or before the server appeared)
    }

    /** Keeps pg_connect's ports those of the servers known now. */
    private void watchPorts(long nowNs) {
        if (!watchesConnects || !loaded()) {
            return;
        }
        for (PostgresDiscovery.Server server : discovery.servers(nowNs).values()) {
            if (portsWatched.add(server.port())) {
                try (Arena arena = Arena.ofConfined()) {
                    object.map(PostgresObject.Maps.PG_PORTS).update(intKey(arena, server.port()), arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 1));
                } catch (BpfException | RuntimeException e) {
                    portsWatched.remove(server.port());
                    Log.debug("postgres: cannot watch port %d: %s", server.port(), e.getMessage());
                }
            }
        }
    }

    /** pg_connect's record: our end of a connect to a PostgreSQL port that completed. */
    private void onConnectRecord(MemorySegment record) {
        if (record.byteSize() < TcpRecord.ENDPOINTS_SIZE) {
            return;
        }
        TcpRecord.Endpoints endpoints = TcpRecord.endpoints(record);
        if (endpoints.remotePort() != 0) { // not the warm-up's zeroes
            onConnect(endpoints);
        }
    }

    /** A connect of ours completed: if to a local PostgreSQL server, its backend is looked for from the next poll on. */
    /** The tcp probe's connects, to this probe (a class, not a method reference: each costs a spun class at start-up). */
    private static final class Connects implements Consumer<TcpRecord.Endpoints> {
        private final PostgresProbe probe;

        Connects(PostgresProbe probe) {
            this.probe = probe;
        }

        @Override
        public void accept(TcpRecord.Endpoints endpoints) {
            probe.onConnect(endpoints);
        }
    }

    private void onConnect(TcpRecord.Endpoints endpoints) {
        long now = System.nanoTime();
        PostgresDiscovery.Ours ours = ours(endpoints);
        if (ours != null && ensureLoaded(now)) {
            discovery.connected(ours, now);
        }
    }

    static PostgresDiscovery.Ours ours(TcpRecord.Endpoints e) {
        try {
            return new PostgresDiscovery.Ours(e.family(), raw(e.localAddress(), e.family()), e.localPort(),
                    raw(e.remoteAddress(), e.family()), e.remotePort());
        } catch (IllegalArgumentException ex) {
            return null;
        }
    }

    /** The bytes a socket of this family holds for an address as the tcp probe printed it (IPv4-mapped ones as IPv4). */
    static byte[] raw(String text, int family) {
        byte[] a = InetAddress.ofLiteral(text).getAddress();
        if (family == TcpRecord.AF_INET6 && a.length == 4) {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(a, 0, mapped, 12, 4);
            return mapped;
        }
        return a;
    }

    @Override
    public void afterPoll(long nowNs) {
        if (loaded() && discovery.hasPending()) {
            long t0 = System.nanoTime();
            for (PostgresDiscovery.Backend b : discovery.resolvePending(nowNs)) {
                follow(b);
            }
            lookNanos += System.nanoTime() - t0;
        }
    }

    @Override
    public void periodic(long nowNs) {
        if (!ensureLoaded(nowNs)) {
            return;
        }
        watchPorts(nowNs);
        for (Iterator<Followed> it = followed.values().iterator(); it.hasNext();) {
            Followed f = it.next();
            if (!Files.isDirectory(Path.of("/proc/" + f.backend.pid()))) { // a backend exits when its connection closes
                unfollow(f);
                it.remove();
            }
        }
        if (!context.connects().producing() && nowNs - lastTableScanNs >= PostgresDiscovery.TABLE_SCAN_NS) {
            scanTables(nowNs);
        }
    }

    private void scanTables(long nowNs) {
        lastTableScanNs = nowNs;
        long t0 = System.nanoTime();
        try {
            for (PostgresDiscovery.Backend b : discovery.scanTables(nowNs, followed.keySet())) {
                follow(b);
            }
        } catch (IOException | RuntimeException e) {
            Log.debug("postgres: scan failed: %s", e);
        }
        lookNanos += System.nanoTime() - t0;
    }

    private void follow(PostgresDiscovery.Backend b) {
        long now = System.nanoTime();
        if (now - followWindowNs >= 1_000_000_000L) {
            followWindowNs = now;
            followsInWindow = 0;
        }
        String refusal = followed.size() >= MAX_BACKENDS ? "more than " + MAX_BACKENDS + " backends at once"
                : followsInWindow >= MAX_FOLLOWS_PER_SECOND ? "more than " + MAX_FOLLOWS_PER_SECOND + " new connections a second"
                : null;
        if (refusal != null) {
            backendsNotFollowed++;
            lastFailure = refusal;
            Log.debug("postgres: backend %d not followed: %s", b.pid(), refusal);
            return;
        }
        followsInWindow++;
        byte[] key = PostgresRecord.connectionKey(b.ours().family(), b.ours().localAddress(), b.ours().localPort(),
                b.ours().remoteAddress(), b.ours().remotePort());
        Followed f = new Followed(b, key);
        String exe = "/proc/" + b.pid() + "/exe";
        try (Arena arena = Arena.ofConfined()) {
            String version = binaryVersion(b.pid());
            Sites sites = sites(Path.of(exe), version);
            long debugQueryString = debugQueryStringAddress(b.pid(), version);
            object.map(PostgresObject.Maps.BACKENDS).update(intKey(arena, b.pid()), arena.allocateFrom(ValueLayout.JAVA_BYTE,
                    PostgresRecord.backend(debugQueryString)));
            object.map(PostgresObject.Maps.PG_CONNS).update(arena.allocateFrom(ValueLayout.JAVA_BYTE, key), intKey(arena, b.pid()));
            BpfProgram program = object.program(PROGRAM);
            if (multi) {
                f.links.add(program.attachUprobeMulti(BpfProgram.UPROBE_MULTI, b.pid(), exe, sites.offsets(), sites.cookies(),
                        sites.semaphores()));
            } else {
                for (int i = 0; i < sites.offsets().length; i++) {
                    f.links.add(program.attachUprobe(b.pid(), exe, sites.offsets()[i], sites.cookies()[i],
                            sites.semaphores()[i]));
                }
            }
            if (senderAvailable && senderLink == null) {
                senderLink = object.program(SENDER_TRACEPOINT).attach();
            }
        } catch (BpfException | IOException | RuntimeException e) {
            unfollow(f);
            backendsNotFollowed++;
            lastFailure = "backend " + b.pid() + ": " + e.getMessage();
            Log.warn("postgres: cannot follow backend %d of our connection from port %d: %s", b.pid(), b.ours().localPort(),
                    e.getMessage());
            return;
        }
        followed.put(b.pid(), f);
        backendsFollowed++;
        binaries.add(binaryOf(b.pid()));
        if (!toldFollowing) {
            toldFollowing = true;
            Log.info("postgres: following backend %d (postmaster %d) of our connection from port %d: its statements are"
                    + " recorded; further backends are counted in %s", b.pid(), b.postmasterPid(), b.ours().localPort(),
                    EventNames.PROBE_STATUS);
        }
        Log.debug("postgres: following backend %d (postmaster %d) of our connection from port %d (%d us to attach)",
                b.pid(), b.postmasterPid(), b.ours().localPort(), (System.nanoTime() - f.followedAtNs) / 1000);
    }

    /**
     * Lets go of a backend: its map entries now, its links on the background thread (each
     * detach waits for the kernel's grace period). Its records still in the ring buffer keep
     * their port and database ({@link #retired}).
     */
    private void unfollow(Followed f) {
        retired.put(f.backend.pid(), f);
        List<BpfLink> links = List.copyOf(f.links);
        f.links.clear();
        if (!links.isEmpty() && !context.background().submit(() -> links.forEach(BpfLink::close))) {
            detachesRefused++;
            links.forEach(BpfLink::close);
        }
        if (object == null) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pid = intKey(arena, f.backend.pid());
            object.map(PostgresObject.Maps.BACKENDS).delete(pid);
            object.map(PostgresObject.Maps.SENDERS).delete(pid);
            object.map(PostgresObject.Maps.PG_CONNS).delete(arena.allocateFrom(ValueLayout.JAVA_BYTE, f.connectionKey));
        } catch (BpfException | RuntimeException e) {
            Log.debug("postgres: cleaning up after backend %d: %s", f.backend.pid(), e);
        }
    }

    private static MemorySegment intKey(Arena arena, int value) {
        return arena.allocateFrom(ValueLayout.JAVA_INT, value);
    }

    /**
     * Where the backend keeps {@code debug_query_string} (the statement being executed, also a
     * named one parsed long ago), or 0 when its binary does not export it: the text then comes
     * from the parse and query__start probes only. The binary is read once per file version.
     */
    long debugQueryStringAddress(int pid, String version) throws IOException {
        Path exe = Path.of("/proc/" + pid + "/exe");
        String real = Files.readSymbolicLink(exe).toString();
        OptionalLong fromStart = debugQueryStringOffsets.get(version);
        if (fromStart == null) {
            try (ElfFile elf = ElfFile.open(exe)) {
                Optional<ElfFile.Symbol> symbol = elf.dataSymbol("debug_query_string");
                fromStart = symbol.isPresent() ? OptionalLong.of(symbol.get().value() - elf.vaddr(0)) : OptionalLong.empty();
            }
            if (debugQueryStringOffsets.size() > 16) {
                debugQueryStringOffsets.clear(); // upgraded binaries: bounded
            }
            debugQueryStringOffsets.put(version, fromStart);
        }
        if (fromStart.isEmpty()) {
            return 0;
        }
        for (ProcMaps.Mapping m : ProcMaps.of(pid).mappings()) {
            if (m.offset() == 0 && m.path().equals(real)) {
                return m.start() + fromStart.getAsLong();
            }
        }
        return 0;
    }

    /** A binary's path, time and size: what its probes and symbols are cached by. */
    static String binaryVersion(int pid) throws IOException {
        Path exe = Path.of("/proc/" + pid + "/exe");
        return Files.readSymbolicLink(exe) + "@" + Files.getLastModifiedTime(exe).toMillis() + "/" + Files.size(exe);
    }

    private static String binaryOf(int pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).toString();
        } catch (IOException e) {
            return "/proc/" + pid + "/exe";
        }
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        PostgresRecord r = PostgresRecord.decode(segment);
        if (r.backendPid() == 0) {
            return; // the warm-up's empty record
        }
        PostgresQueryEvent e = new PostgresQueryEvent();
        String text = redact ? redacted.computeIfAbsent(r.query(), SqlRedaction::redact) : r.query();
        e.query = r.truncated() ? text + "…" : text;
        e.backendPid = r.backendPid();
        e.protocol = PostgresRecord.protocolName(r.protocol());
        e.lockWait = r.lockWaitNs();
        e.failed = r.failed();
        Followed f = followed.get(r.backendPid());
        if (f == null) {
            f = retired.get(r.backendPid());
        }
        if (f != null) {
            e.clientPort = f.backend.ours().localPort();
            if (f.database == null) {
                f.database = databaseOf(r.backendPid());
            }
            e.database = f.database;
        }
        EventHeader h = r.header();
        if (h.tid() != 0) {
            emit(e, h);
        } else {
            emit(e, h.timestampNs(), h.durationNs()); // no send of ours seen on that connection
        }
    }

    private static String databaseOf(int pid) {
        try {
            return PostgresDiscovery.databaseFromTitle(Files.readString(Path.of("/proc/" + pid + "/cmdline")));
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public String attachedAs() {
        if (backendsFollowed == 0) {
            String why = discovery.problem() != null ? discovery.problem() : lastFailure;
            Map<Integer, PostgresDiscovery.Server> servers = discovery.knownServers();
            String seen = servers.isEmpty() ? "no postmaster seen on this host"
                    : "postmasters seen: " + String.join(", ", servers.values().stream()
                            .map(v -> "pid " + v.postmasterPid() + " port " + v.port()).sorted().toList());
            return "no colocated PostgreSQL server served this JVM: nothing attached (" + seen + (why != null ? "; " + why : "")
                    + ")";
        }
        return "usdt " + PROVIDER + " (" + USDTS.size() + " probes, " + (multi ? "one uprobe_multi link" : "perf uprobes")
                + " a backend) on " + backendsFollowed + " backend(s) serving our connections (" + followed.size()
                + " now) of " + String.join(", ", binaries) + (senderAvailable ? "; tp_btf " + SENDER_TRACEPOINT
                        : "; this kernel has no " + SENDER_TRACEPOINT + ": queries have no Java thread")
                + (backendsNotFollowed > 0 ? "; " + backendsNotFollowed + " not followed (" + lastFailure + ")" : "");
    }

    @Override
    public void finish(long nowNs) {
        if (backendsFollowed > 1) {
            Log.info("postgres: %d backends followed%s", backendsFollowed,
                    backendsNotFollowed > 0 ? ", " + backendsNotFollowed + " not (" + lastFailure + ")" : "");
        }
        Log.debug("postgres: %d backends followed, %d not; %d ms finding and attaching (%d socket table reads); %d detaches"
                + " done on the agent's thread (background queue full)", backendsFollowed, backendsNotFollowed,
                lookNanos / 1_000_000, discovery.tableScans(), detachesRefused);
    }

    @Override
    public void close() {
        for (Followed f : followed.values()) {
            unfollow(f);
        }
        followed.clear();
        if (senderLink != null) {
            senderLink.close();
            senderLink = null;
        }
        super.close();
    }
}
