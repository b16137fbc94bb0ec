package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Events on virtual threads name the virtual thread, as JFR's own events do, and the carrier in
 * carrierThread: under each garbage collector, since the mounted thread is read from the
 * JavaThread while the collector may be moving the thread objects.
 */
class VirtualThreadsIT {
    static final int N = 2_000;

    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-XX:+UseG1GC", "-XX:+UseZGC", "-XX:+UseParallelGC", "-XX:+UseSerialGC"})
    void everyOpenOfAVirtualThreadNamesThatVirtualThreadAndItsCarrier(String gc, @TempDir Path dir) throws Exception {
        Path data = Files.createDirectory(dir.resolve("data")).toRealPath();
        for (int i = 0; i < N; i++) {
            Files.writeString(data.resolve("v-" + i), "v" + i);
        }
        Path recording = dir.resolve("r.jfr");
        ChildJvm.Result result = ChildJvm.workload(VirtualThreadWorkloads.Opens.class, data.toString(), String.valueOf(N))
                .flag(gc).agent("file=" + recording + ",probes=file").run(dir).assertSucceeded();
        Map<String, Long> ids = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^(vt-\\d+) id=(\\d+)$").matcher(result.output());
        while (m.find()) {
            ids.put(m.group(1), Long.parseLong(m.group(2)));
        }
        assertEquals(N, ids.size(), "virtual threads the workload printed");

        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> opens = where(events, "ebpf.FileOpen", e -> e.getString("path").startsWith(data + "/"));
        assertEquals(N, opens.size(), "opens under " + data);
        Map<String, Integer> seen = new HashMap<>();
        for (RecordedEvent e : opens) {
            String name = "vt-" + e.getString("path").substring(data.toString().length() + 3);
            RecordedThread t = e.getThread();
            assertNotNull(t, "thread of " + e);
            assertTrue(t.isVirtual(), gc + ": " + name + "'s open names a platform thread: " + t);
            assertEquals(ids.get(name), t.getJavaThreadId(), gc + ": Java id of " + t + " for " + name);
            assertEquals(name, t.getJavaName(), gc + ": name of " + t);
            String carrier = e.getString("carrierThread");
            assertTrue(carrier != null && carrier.startsWith("ForkJoinPool-"), gc + ": carrier of " + name + ": " + carrier);
            seen.merge(name, 1, Integer::sum);
        }
        assertEquals(N, seen.size(), "distinct virtual threads named");

        List<RecordedEvent> status = where(events, "ebpf.ProbeStatus", e -> true);
        assertTrue(status.stream().anyMatch(e -> "file".equals(e.getString("probe")) && e.getString("virtualThreads") != null
                && e.getString("virtualThreads").startsWith("mounted virtual threads named")),
                "ebpf.ProbeStatus says how mounted threads are read: " + status);
    }

    /**
     * A JVM that runs no virtual thread: the mounted thread's check on virtual threads never runs
     * (no carrier pool is started for it), and the wait of DestroyJavaVM on main's OS thread (another
     * Java id than main's) names DestroyJavaVM, not a virtual thread.
     */
    @Test
    void withoutVirtualThreadsNoEventNamesOneAndDestroyJavaVmIsItself(@TempDir Path dir) throws Exception {
        String gc = "G1";
        Path recording = dir.resolve("r.jfr");
        ChildJvm.workload(VirtualThreadWorkloads.NoneWhileMainEnds.class)
                .agent("file=" + recording + ",jfr=none,probes=offcpu,startup=wait").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);
        for (RecordedEvent e : events) {
            RecordedThread t = e.getThread();
            assertTrue(t == null || !t.isVirtual(), gc + ": a JVM without virtual threads names one: " + e);
        }
        List<RecordedEvent> destroy = where(events, "ebpf.OffCPU", e -> e.getThread() != null
                && "DestroyJavaVM".equals(e.getThread().getJavaName()) && e.getDuration().toMillis() >= 500);
        assertEquals(1, destroy.size(), gc + ": DestroyJavaVM's wait for 'late': " + where(events, "ebpf.OffCPU", e -> true));
        List<RecordedEvent> status = where(events, "ebpf.ProbeStatus", e -> "offcpu".equals(e.getString("probe")));
        assertEquals(1, status.size(), "ebpf.ProbeStatus of offcpu");
        assertTrue(status.get(0).getString("virtualThreads").endsWith("on virtual threads at the first event of one)"),
                "the check on virtual threads waited for one: " + status.get(0).getString("virtualThreads"));
    }

    static final int DEEP = 6;
    static final int ROUNDS = 150;
    static final String D = VirtualThreadWorkloads.DeepParks.class.getName();

    /**
     * Stacks of mounted virtual threads are whole, also when their continuation was thawed lazily
     * (its frames below the top ones still in its stack chunk on the heap): every CPU sample and
     * file open in the named methods of deep-i has, below the named method, exactly the workload's
     * frames (descend x DEPTH, deepEntry), then the virtual thread's own entry
     * (java.lang.VirtualThread.run) and Continuation.enterSpecial on its carrier; no return barrier,
     * nothing between. Under each collector, since the chunks are objects the collector moves.
     */
    @ParameterizedTest
    @ValueSource(strings = {"-XX:+UseG1GC", "-XX:+UseZGC", "-XX:+UseParallelGC", "-XX:+UseSerialGC"})
    void stacksOfVirtualThreadsThawedLazilyReachTheirEntryThroughTheirStackChunks(String gc, @TempDir Path dir) throws Exception {
        Path data = Files.createDirectory(dir.resolve("data")).toRealPath();
        for (int i = 0; i < DEEP; i++) {
            Files.writeString(data.resolve("d-" + i), "d" + i);
        }
        Path recording = dir.resolve("r.jfr");
        ChildJvm.workload(VirtualThreadWorkloads.DeepParks.class, data.toString(), String.valueOf(DEEP), String.valueOf(ROUNDS))
                .flag(gc).agent("file=" + recording + ",probes=cpu+file,cpu.hz=499").run(dir).assertSucceeded();
        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> opens = where(events, "ebpf.FileOpen", e -> e.getString("path").startsWith(data + "/d-"));
        assertEquals(DEEP * ROUNDS, opens.size(), gc + ": opens under " + data);
        List<RecordedEvent> burns = where(events, "ebpf.CPUSample", e -> frames(e).contains(D + ".burnInNamedMethod"));
        assertTrue(burns.size() >= 50, gc + ": CPU samples in burnInNamedMethod: " + burns.size());
        int whole = 0;
        for (RecordedEvent e : java.util.stream.Stream.concat(opens.stream(), burns.stream()).toList()) {
            List<String> f = frames(e);
            int at = Math.max(f.indexOf(D + ".openInNamedMethod"), f.indexOf(D + ".burnInNamedMethod"));
            assertTrue(at >= 0, gc + ": the named method in " + f);
            List<String> below = f.subList(at + 1, f.size());
            assertTrue(!below.contains("hotspot.cont_returnBarrier"), gc + ": a return barrier in " + f);
            int deep = VirtualThreadWorkloads.DeepParks.DEPTH;
            boolean known = below.size() > deep && below.subList(0, deep).stream().allMatch((D + ".descend")::equals)
                    && below.get(deep).equals(D + ".deepEntry");
            int entry = below.indexOf("java.lang.VirtualThread.run");
            if (known && entry > deep && below.subList(entry, below.size()).contains("jdk.internal.vm.Continuation.enterSpecial")
                    && !e.getStackTrace().isTruncated()) {
                whole++;
                // between deepEntry and the entry, only the task's lambda and the JDK's frames that run it
                assertTrue(below.subList(deep + 1, entry).stream().allMatch(n -> n.startsWith(D + ".lambda$main$") || n.startsWith(D + "$$Lambda")
                        || n.startsWith("java.util.concurrent.FutureTask.") || n.startsWith("java.lang.Thread.")),
                        gc + ": frames between deepEntry and VirtualThread.run: " + f);
            } else {
                // a stack that is not whole says so; its frames are still the workload's, in order
                assertTrue(e.getStackTrace().isTruncated(), gc + ": a stack that does not reach its entry is not marked: " + f);
                for (int i = 0; i < below.size() && below.get(i).startsWith(D + "."); i++) {
                    assertTrue(below.get(i).equals(D + (i < deep ? ".descend" : ".deepEntry")), gc + ": frame " + i + " below in " + f);
                }
            }
        }
        int all = opens.size() + burns.size();
        System.out.printf("%s: %d of %d stacks whole (%d opens, %d CPU samples)%n", gc, whole, all, opens.size(), burns.size());
        assertTrue(whole >= 0.95 * all, gc + ": " + whole + " of " + all + " stacks reach deepEntry, VirtualThread.run and enterSpecial");
    }

    static final int WAITERS = 20;
    static final String W = VirtualThreadWorkloads.Waits.class.getName();

    /**
     * A virtual thread's waits while unmounted (a sleep, a ReentrantLock, a queue, a socket read)
     * are ebpf.OffCPU of state U on that virtual thread, no carrier named, as long as the wait,
     * with the stack where it parked: the waiting method, the virtual thread's own entry. A
     * virtual thread that cannot unmount (a native frame: an FFM upcall) is ebpf.VirtualThreadPinned.
     */
    @ParameterizedTest
    @ValueSource(strings = {"-XX:+UseG1GC", "-XX:+UseZGC"})
    void aVirtualThreadsWaitWhileUnmountedIsItsOffCpuTimeWithTheStackWhereItParked(String gc, @TempDir Path dir) throws Exception {
        Path recording = dir.resolve("r.jfr");
        ChildJvm.Result result = ChildJvm.workload(VirtualThreadWorkloads.Waits.class, String.valueOf(WAITERS)).flag(gc)
                .flag("--enable-native-access=ALL-UNNAMED").agent("file=" + recording + ",probes=offcpu,offcpu.virtual=true").run(dir).assertSucceeded();
        Map<String, Long> ids = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^([a-z]+-\\d+) id=(\\d+)$").matcher(result.output());
        while (m.find()) {
            ids.put(m.group(1), Long.parseLong(m.group(2)));
        }
        assertEquals(4 * WAITERS + 1, ids.size(), "virtual threads the workload printed");

        List<RecordedEvent> events = Recordings.read(recording);
        List<RecordedEvent> unmounted = where(events, "ebpf.OffCPU", e -> "U".equals(e.getString("state")));
        for (RecordedEvent e : unmounted) {
            RecordedThread t = e.getThread();
            assertTrue(t != null && t.isVirtual(), gc + ": an unmounted wait names a platform thread: " + e);
            assertEquals(null, e.getString("carrierThread"), gc + ": an unmounted wait names a carrier: " + e);
        }
        Map<String, List<RecordedEvent>> byThread = unmounted.stream().filter(e -> ids.containsKey(Recordings.javaName(e)))
                .collect(Collectors.groupingBy(Recordings::javaName));
        long sleep = VirtualThreadWorkloads.Waits.SLEEP_MS;
        long hold = VirtualThreadWorkloads.Waits.HOLD_MS;
        for (int i = 0; i < WAITERS; i++) {
            List<RecordedEvent> sleeps = waitsIn(gc, byThread, ids, "sleep-" + i, "sleepInNamedMethod", "java.lang.Thread.sleep", true);
            assertEquals(VirtualThreadWorkloads.Waits.SLEEPS, sleeps.size(), gc + ": sleeps of sleep-" + i + ": " + sleeps);
            for (RecordedEvent e : sleeps) {
                // the stretch is the unmounted time, from the freeze to the thaw: the sleep's timer is
                // armed before the freeze (VirtualThread.parkNanos schedules the unpark, then yields), so
                // on a loaded machine the stretch can be shorter than the sleep by that gap (19.1 ms of
                // a 20 ms sleep seen under ZGC), never by a tenth of it
                assertBetween(gc, e, sleep * 9 / 10, sleep + 200);
            }
            assertLongest(gc, waitsIn(gc, byThread, ids, "lock-" + i, "waitForLock",
                    "java.util.concurrent.locks.AbstractQueuedSynchronizer.acquire", true), hold / 2);
            assertLongest(gc, waitsIn(gc, byThread, ids, "queue-" + i, "takeFromQueue", "java.util.concurrent.LinkedBlockingQueue.take", true),
                    hold / 2);
            assertLongest(gc, waitsIn(gc, byThread, ids, "read-" + i, "readFromSocket", "sun.nio.ch.NioSocketImpl.park", false), hold / 2);
        }

        List<RecordedEvent> pinned = where(events, "ebpf.VirtualThreadPinned", e -> "pinned-0".equals(Recordings.javaName(e)));
        // one sleep in one comparison of two elements: a failed unmount, maybe retried
        assertTrue(!pinned.isEmpty() && pinned.size() <= 3, gc + ": pinning events of pinned-0: " + pinned);
        RecordedEvent p = pinned.get(0);
        assertTrue(p.getThread().isVirtual(), gc + ": pinned-0 is virtual: " + p);
        assertEquals(ids.get("pinned-0"), p.getThread().getJavaThreadId(), gc + ": Java id of pinned-0");
        assertEquals("native frame", p.getString("reason"), gc + ": " + p);
        String carrier = p.getString("carrierThread");
        assertTrue(carrier != null && carrier.startsWith("ForkJoinPool-"), gc + ": carrier of pinned-0: " + carrier);
        List<String> frames = frames(p);
        assertTrue(frames.contains(W + ".pinnedComparator") && frames.stream().anyMatch(f -> f.startsWith("jdk.internal.foreign.abi.UpcallStub")),
                gc + ": the pinning event's stack has the upcall that pins it: " + frames);

        List<RecordedEvent> status = where(events, "ebpf.ProbeStatus", e -> "offcpu".equals(e.getString("probe")));
        assertTrue(status.stream().anyMatch(e -> e.getString("reason").contains("unmounted (state U) and pinning: uprobe_multi on")),
                gc + ": ebpf.ProbeStatus says how unmounted waits are seen: " + status);
    }

    /**
     * The unmounted waits of virtual thread name in method, below frame: at least one, each reaching the thread's entry. firstParkRecorded: the thread parks nowhere before the wait in method, so its first event is its first park.
     * A socket reader may park shortly in connect (a loopback connect in progress while the server's backlog fills), below
     * offcpu.threshold: its first event is then a park after a lazy thaw.
     */
    private static List<RecordedEvent> waitsIn(String gc, Map<String, List<RecordedEvent>> byThread, Map<String, Long> ids, String name,
            String method, String below, boolean firstParkRecorded) {
        List<RecordedEvent> all = byThread.getOrDefault(name, List.of());
        List<RecordedEvent> in = all.stream().filter(e -> frames(e).contains(W + "." + method)).toList();
        assertTrue(!in.isEmpty(), gc + ": no unmounted wait of " + name + " in " + method + ": " + all);
        for (RecordedEvent e : in) {
            assertEquals(ids.get(name), e.getThread().getJavaThreadId(), gc + ": Java id of " + name);
            List<String> f = frames(e);
            int at = f.indexOf(W + "." + method);
            assertTrue(f.subList(0, at).contains(below), gc + ": " + name + " waits in " + below + " under " + method + ": " + f);
            // walked at the thaw in the stack chunk the wait froze it into, or at the freeze: whole either way
            assertTrue(f.subList(at, f.size()).contains("java.lang.VirtualThread.run") && !f.contains("hotspot.cont_returnBarrier"),
                    gc + ": " + name + "'s stack reaches its entry: " + f);
        }
        // its first park, before any lazy thaw, has its whole stack
        RecordedEvent first = all.stream().min(java.util.Comparator.comparing(RecordedEvent::getStartTime)).orElseThrow();
        assertTrue(!firstParkRecorded || frames(first).contains("java.lang.VirtualThread.run"),
                gc + ": " + name + "'s first park reaches its entry: " + frames(first));
        return in;
    }

    private static void assertLongest(String gc, List<RecordedEvent> waits, long atLeastMs) {
        long longest = waits.stream().mapToLong(e -> e.getDuration().toMillis()).max().orElse(0);
        assertTrue(longest >= atLeastMs && longest < atLeastMs * 2 + 2_000, gc + ": longest wait " + longest + " ms: " + waits);
    }

    private static void assertBetween(String gc, RecordedEvent e, long fromMs, long toMs) {
        Duration d = e.getDuration();
        assertTrue(d.toNanos() >= fromMs * 1_000_000 && d.toMillis() < toMs, gc + ": " + d + " not in [" + fromMs + ", " + toMs + ") ms: " + e);
    }

    private static List<String> frames(RecordedEvent e) {
        return e.getStackTrace() == null ? List.of() : e.getStackTrace().getFrames().stream().map(VirtualThreadsIT::frame).toList();
    }

    private static String frame(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }
}
