package io.jfrebpf.agent.jfr;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.KernelIds;
import io.jfrebpf.events.EbpfEvent;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
import org.openjdk.jmc.flightrecorder.writer.api.Types;

/**
 * Writes our events as JFR chunks: JMC's writer for the metadata and constant pools, our
 * {@link EventEncoder} for the events themselves. Event types come from the catalog classes
 * of {@code jfr-events} (annotations and public fields), so names are defined once. Each event
 * has startTime, duration, eventThread and, unless the class says {@code @StackTrace(false)},
 * stackTrace. Callers give times in CLOCK_MONOTONIC ns (the clock of bpf_ktime_get_ns); they are
 * written in the JVM's JFR ticks ({@link JvmTicks}) so that readers which convert every chunk of
 * a file with the first chunk's clock (the JDK's) place them right.
 *
 * <p>Events are buffered and written {@link #MAX_EVENTS_PER_CHUNK} at a time as one chunk file
 * each, on the daemon thread {@value #WRITER_THREAD}, so the caller (the poller, which must keep
 * draining the ring buffers) never waits for disk unless {@value #MAX_PENDING_CHUNKS} chunks are
 * already queued. Heap stays bounded however long the recording. A JMC {@code Recording} lives
 * only while its chunk is written: it starts a non-daemon thread, which must not outlive the
 * application's last thread (the JVM would not exit and our shutdown hook would never run).
 * One thread calls {@link #write} and {@link #close}.
 */
public final class ChunkWriter implements AutoCloseable {
    static final int MAX_EVENTS_PER_CHUNK = 20_000;
    static final int MAX_PENDING_CHUNKS = 2;
    static final String WRITER_THREAD = "jfr-ebpf-writer";
    static final long TYPE_ID_BASE = 1L << 20;
    /** Our event types: the same ids in every chunk, so tools count them as one type. */
    static final long EVENT_TYPE_ID_BASE = TYPE_ID_BASE + 4096;
    /** Constant pool types (thread, stack trace...): ids alternate between chunks (see {@link Chunk}). */
    static final long POOL_TYPE_ID_STRIDE = 1024;
    static final long CLOSE_TIMEOUT_MS = 60_000;

    private final Path base;
    private final List<Class<? extends EbpfEvent>> eventTypes;
    private final List<Path> chunks = new ArrayList<>();
    private int chunksWritten;
    private final int maxEventsPerChunk;
    private final JvmTicks ticks;
    private final ExecutorService writerThread;
    private final Semaphore pendingChunks = new Semaphore(MAX_PENDING_CHUNKS);
    private final int writerTid;
    private volatile IOException failure;
    private List<Pending> buffer = new ArrayList<>();
    private boolean closed;

    public ChunkWriter(Path file, List<Class<? extends EbpfEvent>> eventTypes, JvmTicks ticks) throws IOException {
        this(file, eventTypes, ticks, MAX_EVENTS_PER_CHUNK);
    }

    ChunkWriter(Path file, List<Class<? extends EbpfEvent>> eventTypes, JvmTicks ticks, int maxEventsPerChunk)
            throws IOException {
        this.base = file;
        this.ticks = ticks;
        this.eventTypes = List.copyOf(eventTypes);
        this.maxEventsPerChunk = maxEventsPerChunk;
        for (Class<? extends EbpfEvent> c : this.eventTypes) {
            EventType.fieldsOf(c); // fail now, not on the writer thread, if a catalog class cannot be written
        }
        writerThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, WRITER_THREAD);
            t.setDaemon(true);
            return t;
        });
        int tid;
        try {
            tid = writerThread.submit(KernelIds::hostTid).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            tid = 0;
        } catch (ExecutionException e) {
            tid = 0;
        }
        writerTid = tid;
    }

    /** The OS thread that writes chunk files (so the probes can leave its I/O out). */
    public int writerTid() {
        return writerTid;
    }

    /** Writes one event that began at {@code startNanos} (CLOCK_MONOTONIC); thread and stack may be null. */
    public void write(EbpfEvent event, long startNanos, long durationNanos, JfrThread thread, JfrStack stack)
            throws IOException {
        if (closed) {
            throw new IOException("chunk writer for " + base + " is closed");
        }
        IOException f = failure;
        if (f != null) {
            throw f;
        }
        buffer.add(new Pending(event, ticks.ticks(startNanos), durationNanos, thread, stack));
        if (buffer.size() >= maxEventsPerChunk) {
            flush();
        }
    }

    private void flush() throws IOException {
        if (buffer.isEmpty()) {
            return;
        }
        List<Pending> events = buffer;
        buffer = new ArrayList<>();
        int chunkIndex = chunksWritten++; // over the whole recording: names stay unique and pool ids alternate across slices
        Path file = chunkIndex == 0 ? base : base.resolveSibling(base.getFileName() + "." + chunkIndex);
        chunks.add(file);
        try {
            pendingChunks.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting to write " + file);
        }
        writerThread.execute(() -> {
            try {
                long t0 = System.nanoTime();
                new Chunk(file, chunkIndex).write(events);
                Log.debug("chunk %s: %d events written in %d ms", file.getFileName(), events.size(),
                        (System.nanoTime() - t0) / 1_000_000);
            } catch (IOException | RuntimeException | OutOfMemoryError e) {
                failure = e instanceof IOException io ? io : new IOException("cannot write " + file + ": " + e, e);
            } finally {
                pendingChunks.release();
            }
        });
    }

    /**
     * Writes what is buffered as a chunk now, waits until every chunk so far is on disk, and
     * returns them (for a dump of the recording so far; they stay part of the final one). Call
     * from the thread that calls {@link #write}.
     */
    public List<Path> flushAndWait() throws IOException {
        if (closed) {
            throw new IOException("chunk writer for " + base + " is closed");
        }
        flush();
        try {
            writerThread.submit(() -> { }).get(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS); // one thread: runs after every chunk before it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing chunk files");
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("chunk files not written: " + e, e);
        }
        IOException f = failure;
        if (f != null) {
            throw f;
        }
        return List.copyOf(chunks);
    }

    /**
     * Like {@link #flushAndWait()}, and hands the chunks over: the next ones belong to the next
     * slice (interval=), the caller now owns these files.
     */
    public List<Path> takeChunks() throws IOException {
        List<Path> written = flushAndWait();
        chunks.clear();
        return written;
    }

    /**
     * Gives the buffered (not yet written) events of some OS threads another thread, e.g. the
     * Java thread the JVM's recording says an ended tid was. Call before {@link #close()}.
     */
    public void relabel(Map<Long, JfrThread> byOsThreadId) {
        if (byOsThreadId.isEmpty()) {
            return;
        }
        for (int i = 0; i < buffer.size(); i++) {
            Pending p = buffer.get(i);
            if (p.thread() != null && !p.thread().isJava()) {
                JfrThread t = byOsThreadId.get(p.thread().osThreadId());
                if (t != null) {
                    buffer.set(i, new Pending(p.event(), p.startTicks(), p.durationNanos(), t, p.stack()));
                }
            }
        }
    }

    /**
     * Names the buffered events of virtual threads that were written unnamed (the thread had ended
     * before the agent could read its name) as the JVM's recording names them, by Java thread id.
     * Call before {@link #close()}.
     */
    public void relabelVirtual(Map<Long, JfrThread> byJavaThreadId) {
        if (byJavaThreadId.isEmpty()) {
            return;
        }
        for (int i = 0; i < buffer.size(); i++) {
            Pending p = buffer.get(i);
            if (p.thread() != null && p.thread().virtual() && p.thread().javaName().isEmpty()) {
                JfrThread t = byJavaThreadId.get(p.thread().javaThreadId());
                if (t != null) {
                    buffer.set(i, new Pending(p.event(), p.startTicks(), p.durationNanos(), t, p.stack()));
                }
            }
        }
    }

    /** The chunk files, in order; complete after {@link #close()}. */
    public List<Path> chunks() {
        return List.copyOf(chunks);
    }

    /** Writes what is buffered and waits for every chunk file to be complete. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            flush();
        } finally {
            writerThread.shutdown();
        }
        try {
            if (!writerThread.awaitTermination(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                throw new IOException("chunk files not written within " + CLOSE_TIMEOUT_MS + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing chunk files");
        }
        if (failure != null) {
            throw failure;
        }
    }

    private record Pending(EbpfEvent event, long startTicks, long durationNanos, JfrThread thread, JfrStack stack) {
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
        private final Map<JfrThread, Long> threadKeys = new HashMap<>();
        private final Map<JfrStack, Long> stackKeys = new HashMap<>();
        private final Map<String, Long> stringKeys = new HashMap<>();
        /**
         * Each distinct frame's value, built once per chunk: stacks share most of their frames
         * (thread roots, the JDK, the application's callers), and building JMC's nested values
         * per frame of every stack was most of the agent's allocation (330 of the writer's
         * 557 MB in the 20 s demo, by the JVM's own allocation samples).
         */
        private final Map<JfrFrame, TypedValue> frameValues = new HashMap<>();
        private final Type stringType;
        private final long clockTicks;
        private final long clockNanos;

        /**
         * The JDK's parser takes a constant pool key it resolved in the previous chunk, for the
         * same type id, as the same constant without reading it again (the JVM's keys are unique
         * in a whole recording). JMC's writer numbers each chunk's pool entries from 1, so
         * consecutive chunks of ours give their pool types different ids (even and odd chunks).
         */
        Chunk(Path file, int chunkIndex) throws IOException {
            this.file = file;
            long[] clock = clockPair();
            clockTicks = ticks.ticks(clock[0]);
            clockNanos = clock[1];
            recording = Recordings.newRecording(file, s -> { });
            nextTypeId(recording, TYPE_ID_BASE + (chunkIndex % 2) * POOL_TYPE_ID_STRIDE);
            types = recording.getTypes();
            stringType = types.getType(Types.Builtin.STRING);
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
            nextTypeId(recording, EVENT_TYPE_ID_BASE);
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
            List<Field> fields = EventType.fieldsOf(c);
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

        /**
         * Writes the events and closes the file. The header's start is the first event's time
         * (mapped to wall-clock time through the pair read when the chunk began) and its
         * duration reaches the end of the last event.
         */
        void write(List<Pending> events) throws IOException {
            long first = Long.MAX_VALUE;
            long last = Long.MIN_VALUE;
            EventEncoder encoder = new EventEncoder();
            try {
                for (Pending p : events) {
                    write(encoder, p.event(), p.startTicks(), p.durationNanos(), p.thread(), p.stack());
                    first = Math.min(first, p.startTicks());
                    last = Math.max(last, p.startTicks() + Math.max(0, p.durationNanos()));
                }
            } finally {
                stopMergingThread(recording);
                recording.close();
            }
            spliceEvents(encoder);
            if (first == Long.MAX_VALUE) {
                first = clockTicks;
                last = clockTicks;
            }
            ChunkHeader.patchClock(file, clockNanos + (first - clockTicks), last - first, first, 1_000_000_000L);
        }

        private void write(EventEncoder encoder, EbpfEvent event, long start, long duration, JfrThread thread,
                JfrStack stack) throws IOException {
            EventType et = byClass.get(event.getClass());
            if (et == null) {
                throw new IllegalArgumentException(event.getClass().getName() + " is not a registered event type");
            }
            // fields in the order register() gave them to the type
            encoder.beginEvent(et.type.getId());
            try {
                encoder.varLong(start);
                encoder.varLong(duration);
                encoder.varLong(thread == null ? 0 : threadKeys.computeIfAbsent(thread, this::threadKey));
                if (et.withStack) {
                    encoder.varLong(stack == null ? 0 : stackKeys.computeIfAbsent(stack, this::stackKey));
                }
                for (Field f : et.fields) {
                    encoder.field(f, event, this::stringKey);
                }
                encoder.endEvent();
            } catch (IllegalAccessException | RuntimeException e) {
                encoder.abandonEvent();
                throw new IOException("cannot encode " + event.getClass().getSimpleName() + ": " + e, e);
            }
        }

        /** The thread's key in this chunk's thread pool (JMC's writer writes the pool itself). */
        private long threadKey(JfrThread thread) {
            return poolKey(threadType.asValue(v -> v.putField("osName", thread.osName())
                    .putField("osThreadId", thread.osThreadId()).putField("javaName", thread.javaName())
                    .putField("javaThreadId", thread.javaThreadId()).putField("virtual", thread.virtual())));
        }

        /** The string's key in this chunk's string pool, or 0 to write it inline. */
        private long stringKey(String s) {
            Long key = stringKeys.get(s);
            if (key == null) {
                long k = poolKey(stringType.asValue(s));
                key = k > 0 ? k : 0;
                stringKeys.put(s, key);
            }
            return key;
        }

        private long stackKey(JfrStack stack) {
            return poolKey(stackValue(stack));
        }

        /**
         * JMC's writer wrote [header][constant pools][metadata] with no events: put ours after
         * the header and move the pool and metadata offsets (both from the chunk start) past them.
         */
        private void spliceEvents(EventEncoder encoder) throws IOException {
            byte[] jmc = Files.readAllBytes(file);
            ByteBuffer header = ByteBuffer.wrap(jmc, 0, ChunkHeader.LENGTH);
            long size = header.getLong(ChunkHeader.SIZE);
            long pools = header.getLong(ChunkHeader.POOL_OFFSET);
            long metadata = header.getLong(ChunkHeader.METADATA_OFFSET);
            if (size != jmc.length || pools < ChunkHeader.LENGTH || pools > size || metadata > size) {
                throw new IOException(file + ": JMC's chunk layout is not the expected one (size " + size + " of "
                        + jmc.length + ", pools at " + pools + ", metadata at " + metadata + ")");
            }
            long added = encoder.size();
            header.putLong(ChunkHeader.SIZE, size + added);
            header.putLong(ChunkHeader.POOL_OFFSET, pools + added);
            header.putLong(ChunkHeader.METADATA_OFFSET, metadata + added);
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
                out.write(jmc, 0, (int) pools);
                encoder.writeTo(out);
                out.write(jmc, (int) pools, jmc.length - (int) pools);
            }
        }

        private TypedValue stackValue(JfrStack stack) {
            TypedValue[] frames = new TypedValue[stack.frames().size()];
            for (int i = 0; i < frames.length; i++) {
                frames[i] = frameValues.computeIfAbsent(stack.frames().get(i), this::frameValue);
            }
            return stackType.asValue(sv -> sv.putField("truncated", stack.truncated()).putField("frames", frames));
        }

        private TypedValue frameValue(JfrFrame f) {
            return frameType.asValue(fv -> fv
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
    }

    private record EventType(Type type, boolean withStack, List<Field> fields) {
        /** The event's own data: its public instance fields, each of a type JFR can carry. */
        static List<Field> fieldsOf(Class<? extends EbpfEvent> c) {
            if (c.getAnnotation(Name.class) == null) {
                throw new IllegalArgumentException(c.getName() + " has no @Name");
            }
            List<Field> fields = new ArrayList<>();
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isPublic(f.getModifiers()) && !Modifier.isStatic(f.getModifiers())) {
                    builtin(f);
                    fields.add(f);
                }
            }
            return fields;
        }
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

    /**
     * JMC's writer numbers types from 1, as the JVM does. Readers key types and constant pools by
     * id across the chunks of a file ({@code jfr summary} counts events by the first name seen
     * for an id), so our ids must not collide with the JVM's: they start at {@link #TYPE_ID_BASE}.
     * The writer has no setting for it; if its internals change, ids stay low and
     * {@code jfr summary}'s counts, and reading files of several chunks of ours, suffer: logged.
     */
    static void nextTypeId(Recording recording, long next) {
        try {
            Field metadata = recording.getClass().getDeclaredField("metadata");
            metadata.setAccessible(true);
            Object m = metadata.get(recording);
            Field counter = m.getClass().getDeclaredField("typeCounter");
            counter.setAccessible(true);
            AtomicLong ids = (AtomicLong) counter.get(m);
            if (ids.get() > next) {
                throw new IllegalStateException("type id " + ids.get() + " already above " + next);
            }
            ids.set(next);
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!warnedTypeIds) {
                warnedTypeIds = true;
                Log.warn("cannot renumber our JFR types (%s); 'jfr summary' may count our events under JVM type names", e);
            }
        }
    }

    private static volatile boolean warnedTypeIds;

    private static final Method CONSTANT_POOL_INDEX = constantPoolIndex();

    /**
     * JMC's writer merges event data on a pool thread that polls its queue every 500 ms, and
     * {@code close()} waits for that thread: half a second per chunk, which capped the drain
     * at 40,000 events/s. We give JMC no events, so the thread has nothing to merge: stop it at
     * once. If the field is not there (another JMC version), close() just takes longer.
     */
    static void stopMergingThread(Recording recording) {
        try {
            Field f = recording.getClass().getDeclaredField("chunkDataMergingService");
            f.setAccessible(true);
            ((ExecutorService) f.get(recording)).shutdownNow();
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.debug("JMC writer: cannot stop its merging thread early (%s)", e);
        }
    }

    private static Method constantPoolIndex() {
        try {
            Method m = Class.forName("org.openjdk.jmc.flightrecorder.writer.TypedValueImpl").getDeclaredMethod("getConstantPoolIndex");
            m.setAccessible(true);
            return m;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError("JMC's writer has no TypedValueImpl.getConstantPoolIndex: " + e);
        }
    }

    /** The key JMC's writer gave a constant pool value (its pool is written with the chunk). */
    static long poolKey(TypedValue value) {
        try {
            return (long) CONSTANT_POOL_INDEX.invoke(value);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the constant pool key of " + value, e);
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
