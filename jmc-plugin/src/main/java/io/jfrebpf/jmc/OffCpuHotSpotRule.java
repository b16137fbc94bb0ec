package io.jfrebpf.jmc;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/**
 * Where application threads spent their time blocked — not idle waits for work (park, wait, sleep,
 * poll), and not the JVM's, the JDK's or the agent's own threads (the reader library's
 * {@link io.jfrebpf.events.read.JdkThreads}), which wait for work all their life.
 */
public final class OffCpuHotSpotRule extends EbpfRule {
    static final TypedPreference<IQuantity> THRESHOLD = time("offcpu.hotspot", "Off-CPU hot spot",
            "A method in which application threads were blocked this long in all is reported", 1000);
    /** Innermost Java frames of threads that wait for work: idle by design. */
    static final Set<String> IDLE = Set.of("java.lang.Object.wait0", "java.lang.Object.wait", "java.lang.Thread.sleepNanos0",
            "java.lang.Thread.sleep0", "java.lang.Thread.sleepNanos", "java.lang.Thread.sleep", "sun.nio.ch.EPoll.wait",
            "sun.nio.ch.Net.poll", "sun.nio.ch.Net.accept", "java.lang.ref.Reference.waitForReferencePendingList",
            "sun.nio.ch.SocketDispatcher.read0", "java.lang.Thread.yield0", "(no Java frame)",
            // the JDK's daemons waiting for work (their threads are left out by name too; these frames are theirs alone)
            "java.lang.VirtualThread.takeVirtualThreadListToUnblock", "java.lang.ProcessHandleImpl.waitForProcessExit0",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject.await",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject.awaitNanos",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject.awaitUntil",
            "java.util.concurrent.locks.AbstractQueuedSynchronizer$ConditionObject.awaitUninterruptibly",
            "java.util.concurrent.locks.AbstractQueuedLongSynchronizer$ConditionObject.await",
            "java.util.concurrent.locks.AbstractQueuedLongSynchronizer$ConditionObject.awaitNanos");
    /** Parking: idle (a pool waiting for tasks, a queue for elements) unless it is inside a lock's acquire. */
    static final Set<String> PARK = Set.of("jdk.internal.misc.Unsafe.park", "java.util.concurrent.locks.LockSupport.park",
            "java.util.concurrent.locks.LockSupport.parkNanos", "java.util.concurrent.locks.LockSupport.parkUntil");
    static final Set<String> WAITS = union(IDLE, PARK);
    static final Set<String> LOCK_ACQUIRE = Set.of("java.util.concurrent.locks.AbstractQueuedSynchronizer.acquire",
            "java.util.concurrent.locks.AbstractQueuedLongSynchronizer.acquire");

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new java.util.HashSet<>(a);
        u.addAll(b);
        return Set.copyOf(u);
    }

    public OffCpuHotSpotRule() {
        super("OffCpuHotSpot", "Off-CPU Hot Spots", List.of(EventNames.OFF_CPU), THRESHOLD, APP_PACKAGES);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        CallSites callSites = callSites(p);
        List<Events.Event> stretches = Events.of(items, EventNames.OFF_CPU);
        if (stretches.isEmpty()) {
            return notApplicable(p, "No " + EventNames.OFF_CPU + " events: record with probes=offcpu (on by default).");
        }
        Map<String, Long> blocked = new HashMap<>();
        Map<String, Map<String, Long>> callers = new HashMap<>();
        long preempted = 0;
        long incomplete = 0;
        for (Events.Event e : stretches) {
            // a wait anywhere in the stack is where the thread waits: the frames a frame-pointer walk
            // finds above it, after losing its way in libc, are stale (in the demo: HttpClient workers
            // parked in ThreadPoolExecutor.getTask "in" Exchange.lambda$startSendingBody$0, handler
            // threads awaiting a LinkedBlockingQueue's condition "in" a request handler's lambda)
            String wait = e.javaFrameIn(WAITS);
            String where = wait != null ? wait : e.innermostJava();
            if (PARK.contains(where)) {
                if (!e.hasJavaFrame(LOCK_ACQUIRE)) {
                    continue; // waiting for work
                }
                where = "a java.util.concurrent lock taken in " + e.callSite(callSites);
            }
            if (!e.onApplicationThread() || IDLE.contains(where)) {
                continue;
            }
            if (!e.complete()) {
                incomplete += e.durationNanos(); // the walk lost its way: the innermost Java frame may be stale
                continue;
            }
            if ("R".equals(e.text("state"))) {
                preempted += e.durationNanos(); // runnable, waiting for a CPU: not blocked in the method
                continue;
            }
            blocked.merge(where, e.durationNanos(), Long::sum);
            callers.computeIfAbsent(where, k -> new HashMap<>()).merge(e.callSite(callSites), e.durationNanos(), Long::sum);
        }
        String waitingForCpu = (preempted > 0 ? "; " + ms(preempted) + " preempted while runnable left out (CPU contention, see"
                + " " + EventNames.RUN_QUEUE_LATENCY + ")" : "") + (incomplete > 0 ? "; " + ms(incomplete) + " on incomplete stacks left out" : "");
        long threshold = nanos(p, THRESHOLD);
        if (blocked.isEmpty() || Events.top(blocked, 1).get(0).getValue() < threshold) {
            return ok(p, "No method kept application threads blocked for " + ms(threshold) + " in all (idle waits left out"
                    + waitingForCpu + ").");
        }
        Map.Entry<String, Long> top = Events.top(blocked, 1).get(0);
        String caller = Events.top(callers.get(top.getKey()), 1).get(0).getKey();
        return result(p, INFO + 10, "Application threads were blocked " + ms(top.getValue()) + " in " + top.getKey()
                + (caller.startsWith(top.getKey()) || top.getKey().endsWith(caller) ? "" : ", called from " + caller) + " (idle waits left out" + waitingForCpu + ").",
                "Time off CPU while not waiting for work: disk I/O (state D), lock contention, page faults, blocking calls — the kernel"
                        + " stack of the " + EventNames.OFF_CPU + " events says which.",
                "Open the off-CPU flame graph (converter flame --event " + EventNames.OFF_CPU + ") at the method named.");
    }
}
