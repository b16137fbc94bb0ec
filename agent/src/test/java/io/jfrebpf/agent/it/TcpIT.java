package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tcp probe end to end on the real kernel: exact connection counts and payload bytes on
 * loopback (IPv4 through Java's dual-stack sockets, and IPv6), both ends, with their threads and
 * stacks; retransmits over the loopback of a network namespace this test creates, with nftables
 * dropping packets at random (this kernel has no netem: CONFIG_NET_SCH_NETEM is off).
 */
class TcpIT {
    static final int N = 20;
    static final int CLIENT_BYTES = 10_000;
    static final int SERVER_BYTES = 30_000;

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    /**
     * 127.0.0.1 through Java's default dual-stack (AF_INET6, IPv4-mapped) sockets, through plain
     * AF_INET sockets (preferIPv4Stack), and IPv6.
     */
    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.0.0.1 -Djava.net.preferIPv4Stack=true", "::1"})
    void everyConnectionOnLoopbackIsCountedOnceOnEachEndWithItsBytesThreadAndStack(String hostAndFlag, @TempDir Path dir)
            throws Exception {
        String host = hostAndFlag.split(" ")[0];
        Path recording = dir.resolve("tcp.jfr");
        ChildJvm child = ChildJvm.workload(TcpWorkloads.Exchange.class, host, String.valueOf(N),
                String.valueOf(CLIENT_BYTES), String.valueOf(SERVER_BYTES)).agent("file=" + recording + ",probes=tcp");
        if (hostAndFlag.contains(" ")) {
            child.flag(hostAndFlag.split(" ")[1]);
        }
        ChildJvm.Result result = child.run(dir).assertSucceeded();
        int port = group(result.output(), "(?m)^port=(\\d+)");
        int refusedPort = group(result.output(), "refused port=(\\d+)");
        int keptOpenPort = group(result.output(), "client local port (\\d+)");
        long clientTid = group(result.output(), "client tid=(\\d+)");
        long serverTid = group(result.output(), "server tid=(\\d+)");

        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> connects = where(events, "ebpf.TcpConnect", e -> e.getInt("remotePort") == port);
        assertEquals(N + 1, connects.size(), "connects to " + port + " (N and the one kept open): " + connects);
        int blocking = 0;
        for (RecordedEvent e : connects) {
            assertNull(e.getString("error"), "error of " + e);
            assertEquals(host, e.getString("remoteAddress"));
            assertEquals(host, e.getString("localAddress"));
            assertTrue(e.getInt("localPort") > 0, "local port of " + e);
            assertOn(e, "tcp-client", clientTid);
            assertTrue(e.getDuration().compareTo(Duration.ZERO) > 0 && e.getDuration().toSeconds() < 5,
                    "connect latency " + e.getDuration());
            boolean isBlocking = hasFrame(e, "TcpWorkloads$Exchange", "connectBlocking");
            assertTrue(isBlocking || hasFrame(e, "TcpWorkloads$Exchange", "connectNonBlocking"), "stack of " + e);
            blocking += isBlocking ? 1 : 0;
        }
        assertEquals(N / 2 + 1, blocking, "connects through the blocking Socket (the others through a Selector)");

        List<RecordedEvent> refused = where(events, "ebpf.TcpConnect", e -> e.getInt("remotePort") == refusedPort);
        assertEquals(1, refused.size(), "connects to the closed port " + refusedPort);
        assertEquals("ECONNREFUSED", refused.get(0).getString("error"));
        assertOn(refused.get(0), "tcp-client", clientTid);
        assertTrue(where(events, "ebpf.TcpConnection", e -> e.getInt("remotePort") == refusedPort).isEmpty(),
                "a refused connect is no connection");

        List<RecordedEvent> outbound = where(events, "ebpf.TcpConnection",
                e -> e.getInt("remotePort") == port && !e.getBoolean("stillOpen"));
        List<RecordedEvent> accepted = where(events, "ebpf.TcpConnection",
                e -> e.getInt("localPort") == port && !e.getBoolean("stillOpen"));
        assertEquals(N, outbound.size(), "closed outbound connections: " + outbound);
        assertEquals(N, accepted.size(), "closed accepted connections: " + accepted);
        for (RecordedEvent e : outbound) {
            assertEquals("outbound", e.getString("direction"));
            assertEquals(CLIENT_BYTES, e.getLong("bytesSent"), "bytes sent by the client: " + e);
            assertEquals(SERVER_BYTES, e.getLong("bytesReceived"), "bytes received by the client: " + e);
            assertOn(e, "tcp-client", clientTid);
            assertTrue(hasFrame(e, "TcpWorkloads$Exchange", "connectBlocking")
                    || hasFrame(e, "TcpWorkloads$Exchange", "connectNonBlocking"), "opened at " + e.getStackTrace());
            assertCounters(e);
        }
        for (RecordedEvent e : accepted) {
            assertEquals("accepted", e.getString("direction"));
            assertEquals(SERVER_BYTES, e.getLong("bytesSent"), "bytes sent by the server: " + e);
            assertEquals(CLIENT_BYTES, e.getLong("bytesReceived"), "bytes received by the server: " + e);
            assertOn(e, "tcp-server", serverTid);
            assertTrue(hasFrame(e, "TcpWorkloads$Exchange", "acceptOne"), "accepted at " + e.getStackTrace());
            assertCounters(e);
        }
        // every client port appears once as a connect, once as an outbound and once as an accepted connection
        for (RecordedEvent c : connects) {
            int clientPort = c.getInt("localPort");
            if (clientPort == keptOpenPort) {
                continue;
            }
            assertEquals(1, outbound.stream().filter(e -> e.getInt("localPort") == clientPort).count(), "port " + clientPort);
            assertEquals(1, accepted.stream().filter(e -> e.getInt("remotePort") == clientPort).count(), "port " + clientPort);
        }

        List<RecordedEvent> stillOpen = where(events, "ebpf.TcpConnection", e -> e.getBoolean("stillOpen"));
        assertEquals(2, stillOpen.size(), "both ends of the connection left open: " + stillOpen);
        RecordedEvent client = stillOpen.stream().filter(e -> e.getInt("localPort") == keptOpenPort).findFirst()
                .orElseThrow(() -> new AssertionError("no still-open client end on port " + keptOpenPort + ": " + stillOpen));
        assertEquals(TcpWorkloads.Exchange.OPEN_CLIENT_BYTES, client.getLong("bytesSent"));
        assertEquals(TcpWorkloads.Exchange.OPEN_SERVER_BYTES, client.getLong("bytesReceived"));
        assertOn(client, "tcp-client", clientTid);
        RecordedEvent server = stillOpen.stream().filter(e -> e.getInt("remotePort") == keptOpenPort).findFirst()
                .orElseThrow(() -> new AssertionError("no still-open server end: " + stillOpen));
        assertEquals(TcpWorkloads.Exchange.OPEN_SERVER_BYTES, server.getLong("bytesSent"));
        assertEquals(TcpWorkloads.Exchange.OPEN_CLIENT_BYTES, server.getLong("bytesReceived"));
        assertOn(server, "tcp-server", serverTid);
        assertTrue(hasFrame(server, "TcpWorkloads$Exchange", "acceptOne"), "accepted at " + server.getStackTrace());

        assertTrue(where(events, "ebpf.TcpRetransmit", e -> true).isEmpty(), "no loss on loopback");
        RecordedEvent status = where(events, "ebpf.ProbeStatus", e -> "tcp".equals(e.getString("probe"))).get(0);
        assertTrue(status.getBoolean("attached"), status.toString());
        assertEquals(0, status.getLong("lost"));
        // 20 connections reused for their exchange, no loss: only the refused connect is worth a look
        JmcRules.on(recording).quiet("Retransmits", "ConnectionChurn", "LostEvents")
                .fires("SlowConnect", "1 of " + (N + 2) + " connects", "ECONNREFUSED", "TcpWorkloads$Exchange");
    }

    /**
     * A JVM writes 2 MB to a sink over loopback, both in a network namespace of their own whose
     * nftables drops 10% of the segments to the sink's port (the host's loopback is untouched).
     * Every retransmission is an event on the writer's thread and stack, and the events add up to
     * the socket's own retransmit counter. A second connect, to a port whose SYNs are all dropped,
     * times out: its SYN retransmits are the connecting thread's, and the connect reports that the
     * application gave up.
     */
    @Test
    void retransmitsUnderLossAreOnTheWritersStackAndAddUp(@TempDir Path dir) throws Exception {
        try (LossyLoopback ns = LossyLoopback.create()) {
            ns.nft("table inet jfrebpf_loss {\n"
                    + " chain input {\n"
                    + "  type filter hook input priority 0;\n"
                    + "  tcp dport 9000 numgen random mod 100 < 10 drop\n"
                    + "  tcp dport 9001 drop\n"
                    + " }\n"
                    + "}\n");
            Path sinkLog = dir.resolve("sink.log");
            Process sink = ChildJvm.workload(TcpWorkloads.Sink.class, LossyLoopback.ADDRESS, "9000")
                    .netns(ns.name).start(sinkLog);
            try {
                ChildJvm.awaitOutput(sink, sinkLog, "listening");
                int bytes = 2_000_000;
                Path recording = dir.resolve("loss.jfr");
                ChildJvm.Result result = ChildJvm.workload(TcpWorkloads.Writer.class, LossyLoopback.ADDRESS, "9000",
                        String.valueOf(bytes)).netns(ns.name).agent("file=" + recording + ",probes=tcp")
                        .run(dir).assertSucceeded();
                long writerTid = group(result.output(), "writer tid=(\\d+)");
                int localPort = group(result.output(), "local port=(\\d+)");
                ChildJvm.awaitOutput(sink, sinkLog, "received " + bytes);

                List<RecordedEvent> events = Recordings.read(recording);
                List<RecordedEvent> connections = where(events, "ebpf.TcpConnection", e -> e.getInt("localPort") == localPort);
                assertEquals(1, connections.size(), "connections from port " + localPort + ": " + connections);
                RecordedEvent connection = connections.get(0);
                assertEquals(bytes, connection.getLong("bytesSent"), "payload once, whatever was resent: " + connection);
                assertEquals(1, connection.getLong("bytesReceived"), "the sink's answer");
                assertEquals(LossyLoopback.ADDRESS, connection.getString("remoteAddress"));
                assertEquals(LossyLoopback.ADDRESS, connection.getString("localAddress"));
                long retransmits = connection.getLong("retransmits");
                assertTrue(retransmits > 0, "10% loss and no retransmit: " + connection);

                List<RecordedEvent> resent = where(events, "ebpf.TcpRetransmit", e -> e.getInt("localPort") == localPort);
                assertFalse(resent.isEmpty(), "no ebpf.TcpRetransmit for " + retransmits + " retransmitted segments");
                long segments = 0;
                for (RecordedEvent e : resent) {
                    assertOn(e, "tcp-writer", writerTid);
                    if ("SYN_SENT".equals(e.getString("state"))) {
                        // the SYN itself was dropped: nobody wrote yet, the connecting code is the one that waits
                        assertTrue(hasFrame(e, "java.net.Socket", "connect"), "connecting at " + e.getStackTrace());
                    } else {
                        assertTrue(hasFrame(e, "TcpWorkloads$Writer", "writeAll"), "written at " + e.getStackTrace());
                    }
                    assertEquals(LossyLoopback.ADDRESS, e.getString("remoteAddress"));
                    assertEquals(9000, e.getInt("remotePort"));
                    assertTrue(e.getLong("retransmits") <= retransmits, e.toString());
                    segments += e.getLong("segments");
                }
                assertEquals(retransmits, segments, "segments of the " + resent.size() + " retransmit events");
                JmcRules rules = JmcRules.on(recording).fires("Retransmits", retransmits + " segments retransmitted",
                        "TcpWorkloads.writeBytes", // the innermost application frame: writeAll's helper
                        LossyLoopback.ADDRESS + ":9000").quiet("ConnectionChurn", "LostEvents");
                // (SlowConnect may fire or not here: the 10% loss drops the SYN itself now and then, a 1 s wait)
                assertEquals(org.openjdk.jmc.flightrecorder.rules.Severity.WARNING, rules.severity("Retransmits"),
                        "10% loss is far above 1% of the segments: " + rules.summary("Retransmits"));
            } finally {
                sink.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }

            // The SYN is resent after the initial RTO of 1 s, by the TCP timer's softirq: on a busy
            // two-CPU machine (a JVM starting up) ksoftirqd can run it hundreds of milliseconds late,
            // so the connect gives up only after 2.5 s (the second resend would be at 3 s).
            Path recording = dir.resolve("timeout.jfr");
            ChildJvm.Result timedOut = ChildJvm.workload(TcpWorkloads.ConnectTimeout.class, LossyLoopback.ADDRESS, "9001",
                    "2500").netns(ns.name).agent("file=" + recording + ",probes=tcp").run(dir).assertSucceeded();
            List<RecordedEvent> events = Recordings.read(recording);
            List<RecordedEvent> connects = where(events, "ebpf.TcpConnect", e -> e.getInt("remotePort") == 9001);
            assertEquals(1, connects.size(), connects.toString());
            RecordedEvent connect = connects.get(0);
            assertEquals("closed before established", connect.getString("error"));
            assertTrue(connect.getDuration().toMillis() >= 2400, "timed out after " + connect.getDuration());
            assertEquals("tcp-connector", javaName(connect));
            List<RecordedEvent> synRetransmits = where(events, "ebpf.TcpRetransmit", e -> e.getInt("remotePort") == 9001);
            assertFalse(synRetransmits.isEmpty(), "the SYN is resent after 1 s; the agent said: " + timedOut.output());
            for (RecordedEvent e : synRetransmits) {
                assertEquals("SYN_SENT", e.getString("state"));
                assertEquals("tcp-connector", javaName(e), "nobody wrote: the connecting thread");
            }
            assertTrue(where(events, "ebpf.TcpConnection", e -> e.getInt("remotePort") == 9001).isEmpty());
            JmcRules.on(recording).fires("SlowConnect", LossyLoopback.ADDRESS + ":9001", "closed before established",
                    "TcpWorkloads$ConnectTimeout");
        }
    }

    static void assertCounters(RecordedEvent e) {
        assertTrue(e.getLong("segmentsOut") > 0 && e.getLong("segmentsIn") > 0, "segments of " + e);
        assertEquals(0, e.getLong("retransmits"), "retransmits on loopback: " + e);
        assertTrue(e.getDuration().compareTo(Duration.ZERO) > 0 && e.getDuration().toSeconds() < 30, "lifetime of " + e);
        assertTrue(e.getDuration("smoothedRtt").toMillis() < 1000, "srtt of " + e);
    }

    static void assertOn(RecordedEvent e, String javaThread, long osTid) {
        assertEquals(javaThread, javaName(e), "thread of " + e);
        assertEquals(osTid, e.getThread().getOSThreadId(), "OS thread of " + e);
    }

    static boolean hasFrame(RecordedEvent e, String classSuffix, String method) {
        if (e.getStackTrace() == null) {
            return false;
        }
        for (RecordedFrame f : e.getStackTrace().getFrames()) {
            if (f.isJavaFrame() && f.getMethod().getName().equals(method)
                    && f.getMethod().getType().getName().endsWith(classSuffix)) {
                return true;
            }
        }
        return false;
    }

    static int group(String output, String regex) {
        Matcher m = Pattern.compile(regex).matcher(output);
        if (!m.find()) {
            fail("no " + regex + " in:\n" + output);
        }
        return Integer.parseInt(m.group(1));
    }

    /**
     * A network namespace of the test's own with only its loopback, at an Ethernet MTU (1500, so
     * that 2 MB are some 1,400 segments, as on a real link, not 32 of loopback's 64 KB), where
     * nftables may drop packets without touching the host's loopback. Removed on close.
     */
    static final class LossyLoopback implements AutoCloseable {
        static final String ADDRESS = "127.0.0.1";
        final String name;

        private LossyLoopback(String name) {
            this.name = name;
        }

        static LossyLoopback create() throws IOException, InterruptedException {
            LossyLoopback ns = new LossyLoopback("jfrebpf-lo-" + ProcessHandle.current().pid());
            try {
                ip("netns", "add", ns.name);
                ip("-n", ns.name, "link", "set", "lo", "mtu", "1500", "up");
                return ns;
            } catch (IOException | InterruptedException | AssertionError e) {
                ns.close();
                throw e;
            }
        }

        void nft(String ruleset) throws IOException, InterruptedException {
            run(List.of("ip", "netns", "exec", name, "nft", "-f", "-"), ruleset);
        }

        static void ip(String... args) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of("ip"));
            command.addAll(List.of(args));
            run(command, null);
        }

        static void run(List<String> command, String input) throws IOException, InterruptedException {
            Process p;
            try {
                p = new ProcessBuilder(command).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new AssertionError(command.get(0) + " not found: run scripts/setup.sh (installs iproute2, nftables)", e);
            }
            if (input != null) {
                p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " failed: " + output);
            }
        }

        @Override
        public void close() throws IOException, InterruptedException {
            if (Files.exists(Path.of("/run/netns", name))) {
                ip("netns", "del", name);
            }
        }
    }
}
