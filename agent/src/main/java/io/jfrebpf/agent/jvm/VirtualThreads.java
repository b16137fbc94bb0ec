package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.jfr.JfrThread;
import java.lang.reflect.Method;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Virtual threads by Java id, as JFR names them ({@code osName} null, {@code osThreadId} 0,
 * {@code virtual} true; an unnamed one is named ""). Thread APIs do not list virtual threads:
 * the JDK's thread containers do ({@code jdk.internal.vm.ThreadContainers}, what
 * {@code jcmd Thread.dump_to_file} reads; the root container tracks every virtual thread unless
 * {@code -Djdk.trackAllThreads=false}), reached through the agent's Instrumentation. They are
 * read again when an event names an id not seen yet, at most one read per
 * {@link #MIN_INTERVAL_NS} and never more than 1/{@link #DUTY} of the time (a read costs
 * about a microsecond per live thread). An id still not found (the thread ended before the
 * poller saw its event: a request served in a millisecond) is written unnamed and remembered,
 * so that the JVM's own recording can name it at the end ({@link #unnamed}). Used on the
 * agent's thread only; bounded.
 */
public final class VirtualThreads {
    static final int MAX_ENTRIES = 65_536;
    static final long MIN_INTERVAL_NS = 2_000_000L;
    /** A read of the containers may take at most 1/DUTY of the agent's time. */
    static final int DUTY = 20;
    /** What JFR names a virtual thread without a name. */
    public static final String UNNAMED = "";

    private final Method root;
    private final Method children;
    private final Method threads;
    private final String unavailable;
    private final Map<Long, String> names = bounded();
    /** Ids named by events but not found by a read: when each was first seen. */
    private final Map<Long, Long> unnamed = bounded();
    /** Ids whose events were written unnamed. */
    private final Map<Long, Boolean> writtenUnnamed = bounded();
    private long lastRead = Long.MIN_VALUE / 2;
    private long lastCost;
    private long reads;

    private VirtualThreads(Method root, Method children, Method threads, String unavailable) {
        this.root = root;
        this.children = children;
        this.threads = threads;
        this.unavailable = unavailable;
    }

    private static <V> Map<Long, V> bounded() {
        return new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, V> eldest) {
                return size() > MAX_ENTRIES;
            }
        };
    }

    /**
     * The JDK's thread containers, reflectively ({@code jdk.internal.vm} must be open to the
     * agent: {@link ThreadRegistry#create} opens it); without them, virtual threads are named
     * only by the JVM's recording at the end.
     */
    static VirtualThreads create() {
        try {
            Class<?> containers = Class.forName("jdk.internal.vm.ThreadContainers");
            Class<?> container = Class.forName("jdk.internal.vm.ThreadContainer");
            Method root = containers.getMethod("root");
            Method children = container.getMethod("children");
            Method threads = container.getMethod("threads");
            root.setAccessible(true);
            children.setAccessible(true);
            threads.setAccessible(true);
            return new VirtualThreads(root, children, threads, null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.debug("threads: the JDK's thread containers are not readable (%s); virtual threads are named at the end", e);
            return new VirtualThreads(null, null, null, e.toString());
        }
    }

    /**
     * The virtual thread with this Java id, named as it was when last read; "" when no read
     * found it (yet: the containers are read again unless a read since its first event missed it,
     * which means it had ended).
     */
    public JfrThread thread(long javaThreadId) {
        String name = names.get(javaThreadId);
        if (name == null) {
            long now = System.nanoTime();
            Long first = unnamed.get(javaThreadId);
            if (first == null) {
                first = now;
                unnamed.put(javaThreadId, now);
            }
            if (lastRead < first && mayRead(now)) {
                read();
                name = names.get(javaThreadId);
            }
        }
        if (name == null) {
            writtenUnnamed.put(javaThreadId, Boolean.TRUE);
            return virtual(javaThreadId, UNNAMED);
        }
        return virtual(javaThreadId, name);
    }

    /** A virtual thread as JFR writes one. */
    public static JfrThread virtual(long javaThreadId, String name) {
        return new JfrThread(0, null, javaThreadId, name == null ? UNNAMED : name, true);
    }

    /** Whether this id is known as a live (or recently live) virtual thread's. */
    public boolean knows(long javaThreadId) {
        return names.containsKey(javaThreadId);
    }

    /** Ids whose events were written unnamed and that no read found since: the JVM's recording may know them. */
    public Set<Long> unnamed() {
        Set<Long> ids = new LinkedHashSet<>();
        for (Long id : writtenUnnamed.keySet()) {
            if (!names.containsKey(id)) {
                ids.add(id);
            }
        }
        return ids;
    }

    /** Virtual threads whose events were written unnamed and that a later read found, by Java id. */
    public Map<Long, JfrThread> namedLater() {
        Map<Long, JfrThread> found = new LinkedHashMap<>();
        for (Long id : writtenUnnamed.keySet()) {
            String name = names.get(id);
            if (name != null) {
                found.put(id, virtual(id, name));
            }
        }
        return found;
    }

    /** How often the containers were read. */
    public long reads() {
        return reads;
    }

    private boolean mayRead(long now) {
        return root != null && now - lastRead >= Math.max(MIN_INTERVAL_NS, DUTY * lastCost);
    }

    /** Reads every live virtual thread's name from the thread containers. */
    public void read() {
        if (root == null) {
            return;
        }
        long start = System.nanoTime();
        lastRead = start;
        reads++;
        try {
            Deque<Object> todo = new ArrayDeque<>();
            todo.add(root.invoke(null));
            int visited = 0;
            while (!todo.isEmpty() && visited++ < MAX_ENTRIES) {
                Object c = todo.poll();
                try (Stream<?> ts = (Stream<?>) threads.invoke(c)) {
                    ts.forEach(o -> {
                        // an empty name is not kept: the thread may not have set its name yet (a task
                        // of a virtual-thread-per-task executor names its thread as it starts); its
                        // events are then written unnamed and named at the end (unnamed())
                        if (o instanceof Thread t && t.isVirtual() && !t.getName().isEmpty()) {
                            names.put(t.threadId(), t.getName());
                            unnamed.remove(t.threadId());
                        }
                    });
                }
                try (Stream<?> cs = (Stream<?>) children.invoke(c)) {
                    cs.forEach(todo::add);
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.debug("threads: reading the thread containers failed: %s", e);
        } finally {
            lastCost = System.nanoTime() - start;
        }
    }

    /** Why virtual threads cannot be listed live, or null. */
    String unavailable() {
        return unavailable;
    }
}
