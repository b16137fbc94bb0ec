package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.jfr.JfrThread;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * OS thread id → the Java thread it runs, for the {@code eventThread} of every event. Live
 * platform threads are enumerated (no safepoint, no thread dump) and each one's JavaThread is
 * followed to its OS tid: {@code Thread.eetop} → {@code Thread::_osthread} →
 * {@code OSThread::_thread_id}, offsets from HotSpot's VMStructs, reads through
 * {@link SafeMemory}. Without VMStructs or access to {@code eetop}, threads are matched by
 * kernel name (/proc/self/task/N/comm) when that name is unique. Unknown tids are JVM-internal or foreign native threads: named by the
 * kernel. An event that happened while a virtual thread was mounted names that virtual thread
 * ({@link #mounted}: the records carry the mounted thread's Java id, {@link MountedThreads};
 * names from {@link VirtualThreads}). Used on the agent's thread only; the caches are bounded.
 */
public final class ThreadRegistry {
    static final int MAX_ENTRIES = 65_536;
    static final long MIN_REFRESH_INTERVAL_NS = 1_000_000L;
    static final long SETTLE_NS = 20_000_000L;
    static final long MOUNT_REFRESH_INTERVAL_NS = 20_000_000L;
    /** HotSpot's native thread names are the Java name cut to the kernel's 15 characters. */
    static final int COMM_CHARS = 15;

    private final Field eetop;
    private final OsThreadIds ids;
    private final MountedThreads mountedThreads;
    private final VirtualThreads virtualThreads;
    private final Map<Integer, Seen> known = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Seen> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    /**
     * A tid's Java thread as last seen, and the one it was before a re-read found it changed at
     * {@code sinceNs}: a thread renamed, or another thread on the same OS thread — the main
     * thread ends and HotSpot's DestroyJavaVM takes its OS thread. Events are read after they
     * happen (up to a poll later, all of them at the end of a short run): those from before
     * the change keep the thread they happened on.
     */
    private record Seen(JfrThread thread, long sinceNs, JfrThread before) {
        JfrThread at(long eventNs) {
            return before != null && eventNs < sinceNs ? before : thread;
        }
    }
    /** Tids not (yet) found among the Java threads → when they were first seen. */
    private final Map<Integer, Long> natives = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Long> eldest) {
            return size() > MAX_ENTRIES;
        }
    };
    /** Each live Java thread's tid, read once (two small process_vm_readv calls), then reused. */
    private final Map<Thread, Integer> tids = new WeakHashMap<>();
    private long lastRefresh;
    /** When {@link #mounted} last re-read the threads; the first ask always does. */
    private long lastMountRefresh = Long.MIN_VALUE / 2;

    private ThreadRegistry(Field eetop, OsThreadIds ids, MountedThreads mountedThreads, VirtualThreads virtualThreads) {
        this.eetop = eetop;
        this.ids = ids;
        this.mountedThreads = mountedThreads;
        this.virtualThreads = virtualThreads;
    }

    public static ThreadRegistry create(Instrumentation inst) {
        Field eetop = null;
        OsThreadIds ids = null;
        try {
            if (inst != null) {
                Module ours = ThreadRegistry.class.getModule();
                // java.lang: Thread.eetop; jdk.internal.vm: the thread containers that list virtual threads
                inst.redefineModule(Thread.class.getModule(), Set.of(), Map.of(),
                        Map.of("java.lang", Set.of(ours), "jdk.internal.vm", Set.of(ours)), Set.of(), Map.of());
            }
            Field f = Thread.class.getDeclaredField("eetop");
            f.setAccessible(true);
            Optional<VmStructs> vm = VmStructs.load();
            ids = vm.isPresent() ? OsThreadIds.of(vm.get()).orElse(null) : null;
            if (ids != null) {
                eetop = f;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.debug("threads: Thread.eetop unreadable (%s); matching threads by name", e);
        }
        if (eetop == null) {
            Log.debug("threads: no VMStructs path to OS thread ids; matching threads by name");
        }
        ThreadRegistry r = new ThreadRegistry(eetop, ids, MountedThreads.find(), VirtualThreads.create());
        r.refresh();
        return r;
    }

    /** Where the BPF programs read the mounted thread, or why they do not. */
    public MountedThreads mountedThreads() {
        return mountedThreads;
    }

    public VirtualThreads virtualThreads() {
        return virtualThreads;
    }

    /**
     * The thread an event on OS thread {@code os} happened on, given the Java id its record says
     * was mounted there (0: unknown): the virtual thread when one was, else {@code os}. Only a
     * Java platform thread can carry a virtual thread; on any other OS thread (a GC worker, a
     * native thread) the word the program read is no id, and {@code os} stands. An id that is
     * neither {@code os}'s nor a virtual thread's is the Java thread that has taken the same OS
     * thread since {@code os} was seen there (HotSpot's DestroyJavaVM after {@code main}, a
     * native thread attached again): a re-read of the threads names it, at most one per
     * {@link #MOUNT_REFRESH_INTERVAL_NS} (the first event of every new virtual thread comes here
     * too: a service starting thousands a second pays at most 50 re-reads a second).
     */
    public JfrThread mounted(JfrThread os, long javaThreadId) {
        if (javaThreadId <= 0 || os == null || !os.isJava() || os.virtual() || javaThreadId == os.javaThreadId()) {
            return os;
        }
        if (!virtualThreads.knows(javaThreadId)) {
            JfrThread now = current((int) os.osThreadId(), javaThreadId);
            if (now == null && System.nanoTime() - lastMountRefresh >= MOUNT_REFRESH_INTERVAL_NS) {
                lastMountRefresh = System.nanoTime();
                refresh();
                now = current((int) os.osThreadId(), javaThreadId);
            }
            if (now != null) {
                return now;
            }
        }
        if (!mountedThreads.confirmed()) {
            return os;
        }
        return virtualThreads.thread(javaThreadId);
    }

    /** The Java thread last seen on OS thread {@code tid} if its Java id is {@code javaThreadId}; else null. */
    private JfrThread current(int tid, long javaThreadId) {
        Seen seen = known.get(tid);
        return seen != null && seen.thread().javaThreadId() == javaThreadId ? seen.thread() : null;
    }

    /**
     * The thread of an event at {@code eventNs} (System.nanoTime's clock, the kernel's
     * CLOCK_MONOTONIC like the records' timestamps): a Java thread if it is (or was, when last
     * seen) one, else a native thread named by the kernel name the event carries. An unknown
     * tid triggers re-reads of the Java threads (at most one per
     * {@link #MIN_REFRESH_INTERVAL_NS}) until a re-read made
     * {@link #SETTLE_NS} after its first event still does not find it (a new thread runs a little
     * before Java lists it): then it is native, and JVM-internal threads cost nothing more.
     * Nothing here reads /proc.
     */
    public JfrThread resolve(int tid, String kernelComm, long eventNs) {
        Seen seen = known.get(tid);
        if (seen != null) {
            return seen.at(eventNs);
        }
        long now = System.nanoTime();
        Long firstSeen = natives.get(tid);
        if (firstSeen == null) {
            firstSeen = now;
            natives.put(tid, now);
        }
        boolean settled = lastRefresh - firstSeen >= SETTLE_NS;
        if (!settled && now - lastRefresh >= MIN_REFRESH_INTERVAL_NS) {
            refresh();
            seen = known.get(tid);
            if (seen != null) {
                return seen.at(eventNs);
            }
        }
        return JfrThread.nativeThread(tid, kernelComm == null || kernelComm.isEmpty() ? "tid " + tid : kernelComm);
    }

    /**
     * Tids that were never found among the Java threads and have ended by now: Java threads
     * that ended before the agent could look them up (or were on their way out, no longer
     * listed), and native threads that ended. JVM-internal threads live on, so they are not
     * asked for. Call at the end, on the agent's thread.
     */
    public Set<Integer> ended() {
        Set<Integer> ended = new LinkedHashSet<>();
        for (Integer tid : natives.keySet()) {
            if (!Files.exists(Path.of("/proc/self/task/" + tid))) {
                ended.add(tid);
            }
        }
        return ended;
    }

    /**
     * Re-reads the live Java threads (names may have changed; only new threads cost a memory
     * read); the agent calls it periodically, and on the first event of an unknown tid, so
     * threads are seen while they are alive.
     */
    public void refresh() {
        lastRefresh = System.nanoTime();
        Thread[] threads = liveThreads();
        Map<String, Thread> byName = new HashMap<>();
        for (Thread th : threads) {
            if (th == null || th.isVirtual()) {
                continue;
            }
            Integer cached = tids.get(th);
            OptionalLong tid = cached != null ? OptionalLong.of(cached) : osThreadId(th);
            if (tid.isPresent()) {
                int id = (int) tid.getAsLong();
                tids.put(th, id);
                learn(id, javaThread(id, th));
                natives.remove(id);
                continue;
            }
            String key = commOf(th.getName());
            byName.put(key, byName.containsKey(key) ? null : th);
        }
        if (!byName.isEmpty()) {
            matchByName(byName);
        }
    }

    private static Thread[] liveThreads() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] threads = new Thread[Math.max(16, Thread.activeCount() * 2)];
        int n;
        while ((n = root.enumerate(threads, true)) == threads.length) {
            threads = new Thread[threads.length * 2];
        }
        return java.util.Arrays.copyOf(threads, n);
    }

    private OptionalLong osThreadId(Thread th) {
        if (eetop == null) {
            return OptionalLong.empty();
        }
        try {
            int tid = ids.of(eetop.getLong(th));
            return tid > 0 ? OptionalLong.of(tid) : OptionalLong.empty();
        } catch (IllegalAccessException e) {
            return OptionalLong.empty();
        }
    }

    /** Fallback: each live task whose kernel name is the unique cut Java name of a thread. */
    private void matchByName(Map<String, Thread> byName) {
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                int tid;
                try {
                    tid = Integer.parseInt(task.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (known.containsKey(tid)) {
                    continue;
                }
                Optional<String> comm = comm(tid);
                if (comm.isPresent()) {
                    Thread th = byName.get(comm.get());
                    if (th != null) {
                        learn(tid, javaThread(tid, th));
                        natives.remove(tid);
                    }
                }
            }
        } catch (Exception e) {
            Log.debug("threads: cannot list /proc/self/task: %s", e);
        }
    }

    private void learn(int tid, JfrThread thread) {
        Seen seen = known.get(tid);
        if (seen == null) {
            known.put(tid, new Seen(thread, lastRefresh, null));
        } else if (!seen.thread().equals(thread)) {
            known.put(tid, new Seen(thread, lastRefresh, seen.thread()));
        }
    }

    private static JfrThread javaThread(int tid, Thread th) {
        return new JfrThread(tid, th.getName(), th.threadId(), th.getName(), false);
    }

    static String commOf(String javaName) {
        return javaName.length() > COMM_CHARS ? javaName.substring(0, COMM_CHARS) : javaName;
    }

    private static Optional<String> comm(int tid) {
        try {
            return Optional.of(Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).strip());
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
