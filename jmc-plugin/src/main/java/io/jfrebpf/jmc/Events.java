package io.jfrebpf.jmc;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.JdkThreads;
import io.jfrebpf.events.read.StackFrames;
import org.openjdk.jmc.common.IMCFrame;
import org.openjdk.jmc.common.IMCStackTrace;
import org.openjdk.jmc.common.IMCThread;
import org.openjdk.jmc.common.item.IAccessorKey;
import org.openjdk.jmc.common.item.IItem;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.item.IItemIterable;
import org.openjdk.jmc.common.item.IMemberAccessor;
import org.openjdk.jmc.common.item.IType;
import org.openjdk.jmc.common.item.ItemFilters;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.unit.UnitLookup;
import org.openjdk.jmc.flightrecorder.JfrAttributes;

/**
 * The eBPF events of a recording as the rules read them: fields by their names in the event
 * catalog (jfr-events), durations in nanoseconds, the thread and the code behind an event.
 */
final class Events {
    /** One event and its type's accessors. */
    static final class Event {
        private final IItem item;
        private final IType<IItem> type;

        Event(IItem item, IType<IItem> type) {
            this.item = item;
            this.type = type;
        }

        private Object value(String field) {
            for (IAccessorKey<?> key : type.getAccessorKeys().keySet()) {
                if (key.getIdentifier().equals(field)) {
                    IMemberAccessor<?, IItem> a = type.getAccessor(key);
                    return a == null ? null : a.getMember(item);
                }
            }
            return null;
        }

        String text(String field) {
            Object v = value(field);
            return v == null ? null : v.toString();
        }

        long number(String field) {
            Object v = value(field);
            return v instanceof IQuantity q ? q.longValue() : v instanceof Number n ? n.longValue() : 0;
        }

        long nanos(String field) {
            Object v = value(field);
            return v instanceof IQuantity q ? q.clampedLongValueIn(UnitLookup.NANOSECOND) : 0;
        }

        long bytes(String field) {
            Object v = value(field);
            if (v instanceof IQuantity q) {
                return q.getUnit().getContentType() == UnitLookup.MEMORY ? q.clampedLongValueIn(UnitLookup.BYTE) : q.longValue();
            }
            return 0;
        }

        boolean flag(String field) {
            return Boolean.TRUE.equals(value(field));
        }

        long durationNanos() {
            IMemberAccessor<IQuantity, IItem> a = JfrAttributes.DURATION.getAccessor(type);
            IQuantity q = a == null ? null : a.getMember(item);
            return q == null ? 0 : q.clampedLongValueIn(UnitLookup.NANOSECOND);
        }

        /** The thread's name, or null for events of the process. */
        String thread() {
            IMemberAccessor<IMCThread, IItem> a = JfrAttributes.EVENT_THREAD.getAccessor(type);
            IMCThread t = a == null ? null : a.getMember(item);
            return t == null ? null : t.getThreadName();
        }

        /** A Java thread of the application: it has a Java id, and is not the JVM's, the JDK's or the agent's own (the reader library's {@link JdkThreads}). */
        boolean onApplicationThread() {
            IMemberAccessor<IMCThread, IItem> a = JfrAttributes.EVENT_THREAD.getAccessor(type);
            IMCThread t = a == null ? null : a.getMember(item);
            return t != null && t.getThreadId() != null && JdkThreads.isApplication(t.getThreadName());
        }

        IMCStackTrace stack() {
            IMemberAccessor<IMCStackTrace, IItem> a = JfrAttributes.EVENT_STACKTRACE.getAccessor(type);
            return a == null ? null : a.getMember(item);
        }

        /** The stack as the reader library's plain frame data; null without a stack. */
        StackFrames frames() {
            IMCStackTrace s = stack();
            return s == null ? null : new JmcFrames(s);
        }

        /**
         * The code behind the event: the innermost frame of the application's code (the reader
         * library's rule: JDK, pools, drivers and frameworks skipped, or the packages of
         * {@code sites}), {@link CallSites#INCOMPLETE} for a stack that does not reach its thread's start.
         */
        String callSite(CallSites sites) {
            return sites.of(frames());
        }

        /**
         * Allocated by the JVM for itself (code blobs, symbols, metadata — NMT's business): a
         * frame of libjvm comes before any Java frame. Memory that JNI, FFM or a native library
         * allocates has libc, its library and the JVM's call stubs there, never libjvm — but
         * for Unsafe.allocateMemory (direct buffers, FFM arenas), which is the application's.
         */
        boolean allocatedByTheJvm() {
            IMCStackTrace s = stack();
            boolean jvm = false;
            boolean unsafe = false;
            if (s != null) {
                for (IMCFrame f : s.getFrames()) {
                    if (JmcFrames.JAVA.contains(f.getType())) {
                        break;
                    }
                    if (f.getMethod() != null && f.getMethod().getType() != null
                            && f.getMethod().getType().getFullName().startsWith("libjvm")) {
                        jvm = true;
                        unsafe |= f.getMethod().getMethodName() != null && f.getMethod().getMethodName().startsWith("Unsafe_");
                    }
                }
            }
            return jvm && !unsafe;
        }

        /**
         * The stack reaches its thread's start (or was cut at the depth limit): a frame-pointer
         * walk that lost its way in a library built without frame pointers ends early, on a
         * stale frame (in the demo, parked HttpClient workers "in" Http1AsyncReceiver.checkRequestMore,
         * 46 of 32,186 off-CPU stacks).
         */
        boolean complete() {
            return CallSites.complete(frames());
        }

        /** A Java frame of one of these methods (class.method) anywhere in the stack. */
        boolean hasJavaFrame(Set<String> methods) {
            return javaFrameIn(methods) != null;
        }

        /** The innermost Java frame of one of these methods (class.method), or null. */
        String javaFrameIn(Set<String> methods) {
            IMCStackTrace s = stack();
            if (s != null) {
                for (IMCFrame f : s.getFrames()) {
                    if (JmcFrames.JAVA.contains(f.getType()) && f.getMethod() != null) {
                        String name = f.getMethod().getType().getFullName() + "." + f.getMethod().getMethodName();
                        if (methods.contains(name)) {
                            return name;
                        }
                    }
                }
            }
            return null;
        }

        /** The innermost Java frame: where a thread was, in the application's terms. */
        String innermostJava() {
            return CallSites.innermostJava(frames());
        }
    }

    /** The most frequent call site of a tally, complete stacks first (the reader library's). */
    static String topSite(Map<String, Long> sites) {
        return CallSites.mostFrequent(sites);
    }

    private Events() {
    }

    static List<Event> of(IItemCollection items, String typeId) {
        List<Event> events = new ArrayList<>();
        for (IItemIterable iterable : items.apply(ItemFilters.type(typeId))) {
            IType<IItem> type = iterable.getType();
            for (IItem item : iterable) {
                events.add(new Event(item, type));
            }
        }
        return events;
    }

    /** Counts by key, the largest first. */
    static <K> List<Map.Entry<K, Long>> top(Map<K, Long> counts, int n) {
        return counts.entrySet().stream().sorted(Map.Entry.<K, Long>comparingByValue().reversed()).limit(n).toList();
    }
}
