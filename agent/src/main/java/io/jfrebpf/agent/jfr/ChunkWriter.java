package io.jfrebpf.agent.jfr;

import io.jfrebpf.events.EbpfEvent;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import jdk.jfr.Unsigned;
import org.openjdk.jmc.flightrecorder.writer.api.Recording;
import org.openjdk.jmc.flightrecorder.writer.api.Recordings;
import org.openjdk.jmc.flightrecorder.writer.api.Type;
import org.openjdk.jmc.flightrecorder.writer.api.TypedValue;
import org.openjdk.jmc.flightrecorder.writer.api.TypedValueBuilder;
import org.openjdk.jmc.flightrecorder.writer.api.Types;

/**
 * Writes our events as JFR chunks with JMC's writer. Event types come from the catalog classes
 * of {@code jfr-events} (annotations and public fields), so names are defined once. Each event
 * has startTime (ticks = CLOCK_MONOTONIC ns, the clock of bpf_ktime_get_ns and of the JVM's own
 * JFR ticks), duration, eventThread and, unless the class says {@code @StackTrace(false)},
 * stackTrace.
 *
 * <p>The writer keeps a chunk in memory until it is closed, so a chunk is closed after
 * {@link #MAX_EVENTS_PER_CHUNK} events and the next one starts in a new file: heap stays bounded
 * however long the recording. Each chunk's header maps its ticks to wall-clock time; the merge
 * re-aligns it with the JVM's chunks. One thread uses a writer at a time.
 */
public final class ChunkWriter implements AutoCloseable {
    static final int MAX_EVENTS_PER_CHUNK = 100_000;

    private final Path base;
    private final List<Class<? extends EbpfEvent>> eventTypes;
    private final List<Path> chunks = new ArrayList<>();
    private final int maxEventsPerChunk;
    private Chunk chunk;
    private boolean closed;

    public ChunkWriter(Path file, List<Class<? extends EbpfEvent>> eventTypes) throws IOException {
        this(file, eventTypes, MAX_EVENTS_PER_CHUNK);
    }

    ChunkWriter(Path file, List<Class<? extends EbpfEvent>> eventTypes, int maxEventsPerChunk) throws IOException {
        this.base = file;
        this.eventTypes = List.copyOf(eventTypes);
        this.maxEventsPerChunk = maxEventsPerChunk;
        chunk = new Chunk(file);
        chunks.add(file);
    }

    /** Writes one event; thread and stack may be null. */
    public void write(EbpfEvent event, long startTicks, long durationTicks, JfrThread thread, JfrStack stack)
            throws IOException {
        if (closed) {
            throw new IOException("chunk writer for " + base + " is closed");
        }
        if (chunk.events >= maxEventsPerChunk) {
            chunk.close();
            Path next = base.resolveSibling(base.getFileName() + "." + chunks.size());
            chunk = new Chunk(next);
            chunks.add(next);
        }
        chunk.write(event, startTicks, durationTicks, thread, stack);
    }

    /** The chunk files, in order; complete after {@link #close()}. */
    public List<Path> chunks() {
        return List.copyOf(chunks);
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            chunk.close();
        }
    }

    /** One chunk file and its types. */
    private final class Chunk {
        private final Path file;
        private final Recording recording;
        private final Types types;
        private final Type threadType;
        private final Type classType;
        private final Type methodType;
        private final Type frameTypeType;
        private final Type frameType;
        private final Type stackType;
        private final Map<Class<?>, EventType> byClass = new HashMap<>();
        private final long startTicks;
        private final long startNanos;
        private long lastTicks;
        long events;

        Chunk(Path file) throws IOException {
            this.file = file;
            long[] clock = clockPair();
            startTicks = clock[0];
            startNanos = clock[1];
            lastTicks = startTicks;
            recording = Recordings.newRecording(file, s -> { });
            types = recording.getTypes();
            for (String name : List.of("jdk.jfr.Label", "jdk.jfr.Description", "jdk.jfr.Timestamp", "jdk.jfr.Timespan",
                    "jdk.jfr.DataAmount")) {
                recording.registerAnnotationType(name, b -> b.addField("value", Types.Builtin.STRING));
            }
            recording.registerAnnotationType("jdk.jfr.Unsigned", b -> { });
            recording.registerAnnotationType("jdk.jfr.Category", b -> b.addField("value", Types.Builtin.STRING, f -> f.asArray()));
            threadType = types.getOrAdd("java.lang.Thread", b -> b.addField("osName", Types.Builtin.STRING)
                    .addField("osThreadId", Types.Builtin.LONG).addField("javaName", Types.Builtin.STRING)
                    .addField("javaThreadId", Types.Builtin.LONG).addField("virtual", Types.Builtin.BOOLEAN));
            classType = types.getOrAdd("java.lang.Class", b -> b.addField("name", Types.Builtin.STRING)
                    .addField("modifiers", Types.Builtin.INT).addField("hidden", Types.Builtin.BOOLEAN));
            methodType = types.getOrAdd("jdk.types.Method", b -> b.addField("type", classType)
                    .addField("name", Types.Builtin.STRING).addField("descriptor", Types.Builtin.STRING)
                    .addField("modifiers", Types.Builtin.INT).addField("hidden", Types.Builtin.BOOLEAN));
            frameTypeType = types.getOrAdd("jdk.types.FrameType", b -> b.addField("description", Types.Builtin.STRING));
            // inline, not a constant pool: the JDK's reader expects frames inside the stack trace
            frameType = types.getOrAdd("jdk.types.StackFrame", false, b -> b.addField("method", methodType)
                    .addField("lineNumber", Types.Builtin.INT).addField("bytecodeIndex", Types.Builtin.INT)
                    .addField("type", frameTypeType));
            stackType = types.getOrAdd("jdk.types.StackTrace", b -> b.addField("truncated", Types.Builtin.BOOLEAN)
                    .addField("frames", frameType, f -> f.asArray()));
            for (Class<? extends EbpfEvent> c : eventTypes) {
                byClass.put(c, register(c));
            }
        }

        private Type annotation(String name) {
            return types.getType(name);
        }

        private EventType register(Class<? extends EbpfEvent> c) {
            Name name = c.getAnnotation(Name.class);
            if (name == null) {
                throw new IllegalArgumentException(c.getName() + " has no @Name");
            }
            StackTrace st = c.getAnnotation(StackTrace.class);
            boolean withStack = st == null || st.value();
            List<Field> fields = new ArrayList<>();
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isPublic(f.getModifiers()) && !Modifier.isStatic(f.getModifiers())) {
                    fields.add(f);
                }
            }
            Type type = recording.registerType(name.value(), "jdk.jfr.Event", b -> {
                b.addField("startTime", Types.Builtin.LONG, f -> f.addAnnotation(annotation("jdk.jfr.Timestamp"), "TICKS")
                        .addAnnotation(annotation("jdk.jfr.Label"), "Start Time"));
                b.addField("duration", Types.Builtin.LONG, f -> f.addAnnotation(annotation("jdk.jfr.Timespan"), "TICKS")
                        .addAnnotation(annotation("jdk.jfr.Label"), "Duration"));
                b.addField("eventThread", threadType, f -> f.addAnnotation(annotation("jdk.jfr.Label"), "Event Thread"));
                if (withStack) {
                    b.addField("stackTrace", stackType, f -> f.addAnnotation(annotation("jdk.jfr.Label"), "Stack Trace"));
                }
                for (Field field : fields) {
                    b.addField(field.getName(), builtin(field), fb -> {
                        Label l = field.getAnnotation(Label.class);
                        if (l != null) {
                            fb.addAnnotation(annotation("jdk.jfr.Label"), l.value());
                        }
                        Description d = field.getAnnotation(Description.class);
                        if (d != null) {
                            fb.addAnnotation(annotation("jdk.jfr.Description"), d.value());
                        }
                        Timespan t = field.getAnnotation(Timespan.class);
                        if (t != null) {
                            fb.addAnnotation(annotation("jdk.jfr.Timespan"), t.value());
                        }
                        DataAmount a = field.getAnnotation(DataAmount.class);
                        if (a != null) {
                            fb.addAnnotation(annotation("jdk.jfr.DataAmount"), a.value());
                        }
                        if (field.getAnnotation(Unsigned.class) != null) {
                            fb.addAnnotation(annotation("jdk.jfr.Unsigned"));
                        }
                    });
                }
                Label l = c.getAnnotation(Label.class);
                if (l != null) {
                    b.addAnnotation(annotation("jdk.jfr.Label"), l.value());
                }
                Description d = c.getAnnotation(Description.class);
                if (d != null) {
                    b.addAnnotation(annotation("jdk.jfr.Description"), d.value());
                }
                Category cat = c.getAnnotation(Category.class);
                if (cat != null) {
                    b.addAnnotation(annotation("jdk.jfr.Category"), v -> v.putField("value", cat.value()));
                }
            });
            return new EventType(type, withStack, fields);
        }

        void write(EbpfEvent event, long start, long duration, JfrThread thread, JfrStack stack) throws IOException {
            EventType et = byClass.get(event.getClass());
            if (et == null) {
                throw new IllegalArgumentException(event.getClass().getName() + " is not a registered event type");
            }
            TypedValue threadValue = thread == null ? threadType.nullValue() : threadType.asValue(v -> v
                    .putField("osName", thread.osName()).putField("osThreadId", thread.osThreadId())
                    .putField("javaName", thread.javaName()).putField("javaThreadId", thread.javaThreadId())
                    .putField("virtual", thread.virtual()));
            TypedValue value;
            try {
                value = et.type.asValue(v -> {
                    v.putField("startTime", start).putField("duration", duration).putField("eventThread", threadValue);
                    if (et.withStack) {
                        v.putField("stackTrace", stack == null ? stackType.nullValue() : stackValue(stack));
                    }
                    for (Field f : et.fields) {
                        put(v, f, event);
                    }
                });
            } catch (IllegalStateException e) {
                throw new IOException("cannot encode " + event.getClass().getSimpleName() + ": " + e.getMessage(), e);
            }
            recording.writeEvent(value);
            events++;
            lastTicks = Math.max(lastTicks, start + Math.max(0, duration));
        }

        private TypedValue stackValue(JfrStack stack) {
            TypedValue[] frames = new TypedValue[stack.frames().size()];
            for (int i = 0; i < frames.length; i++) {
                JfrFrame f = stack.frames().get(i);
                frames[i] = frameType.asValue(fv -> fv
                        .putField("method", methodType.asValue(mv -> mv
                                .putField("type", classType.asValue(cv -> cv.putField("name", f.className())
                                        .putField("modifiers", 0).putField("hidden", false)))
                                .putField("name", f.methodName())
                                // jfr print parses the descriptor: never empty
                                .putField("descriptor", f.descriptor() == null || f.descriptor().isEmpty() ? "()V" : f.descriptor())
                                .putField("modifiers", 0).putField("hidden", false)))
                        .putField("lineNumber", f.lineNumber()).putField("bytecodeIndex", f.bytecodeIndex())
                        .putField("type", frameTypeType.asValue(tv -> tv.putField("description", f.type()))));
            }
            return stackType.asValue(sv -> sv.putField("truncated", stack.truncated()).putField("frames", frames));
        }

        void close() throws IOException {
            recording.close();
            ChunkHeader.patchClock(file, startNanos, Math.max(0, lastTicks - startTicks), startTicks, 1_000_000_000L);
        }
    }

    private record EventType(Type type, boolean withStack, List<Field> fields) {
    }

    private static Types.Builtin builtin(Field f) {
        Class<?> t = f.getType();
        if (t == String.class) {
            return Types.Builtin.STRING;
        } else if (t == long.class) {
            return Types.Builtin.LONG;
        } else if (t == int.class) {
            return Types.Builtin.INT;
        } else if (t == boolean.class) {
            return Types.Builtin.BOOLEAN;
        } else if (t == double.class) {
            return Types.Builtin.DOUBLE;
        } else if (t == float.class) {
            return Types.Builtin.FLOAT;
        } else if (t == short.class) {
            return Types.Builtin.SHORT;
        } else if (t == byte.class) {
            return Types.Builtin.BYTE;
        } else if (t == char.class) {
            return Types.Builtin.CHAR;
        }
        throw new IllegalArgumentException("field " + f + " has a type JFR events cannot carry");
    }

    private static void put(TypedValueBuilder v, Field f, Object event) {
        try {
            Class<?> t = f.getType();
            String n = f.getName();
            if (t == String.class) {
                v.putField(n, (String) f.get(event));
            } else if (t == long.class) {
                v.putField(n, f.getLong(event));
            } else if (t == int.class) {
                v.putField(n, f.getInt(event));
            } else if (t == boolean.class) {
                v.putField(n, f.getBoolean(event));
            } else if (t == double.class) {
                v.putField(n, f.getDouble(event));
            } else if (t == float.class) {
                v.putField(n, f.getFloat(event));
            } else if (t == short.class) {
                v.putField(n, f.getShort(event));
            } else if (t == byte.class) {
                v.putField(n, f.getByte(event));
            } else if (t == char.class) {
                v.putField(n, f.getChar(event));
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A (monotonic ns, epoch ns) pair taken as close together as a few tries allow. */
    static long[] clockPair() {
        long best = Long.MAX_VALUE;
        long[] pair = new long[2];
        for (int i = 0; i < 5; i++) {
            long a = System.nanoTime();
            Instant now = Instant.now();
            long b = System.nanoTime();
            if (b - a < best) {
                best = b - a;
                pair[0] = a + (b - a) / 2;
                pair[1] = now.getEpochSecond() * 1_000_000_000L + now.getNano();
            }
        }
        return pair;
    }
}
