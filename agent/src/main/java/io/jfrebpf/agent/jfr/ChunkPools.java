package io.jfrebpf.agent.jfr;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The constant pools of one chunk: threads, stack traces and what their frames need (methods,
 * classes, frame types), and strings. Each distinct value gets an index in its pool the first
 * time an event refers to it; its key in the chunk is {@code (index + 1) * 2 + parity}, the
 * parity alternating between consecutive chunks. The JDK's parser takes a key it resolved in
 * the previous chunk, for the same type, as the same constant without reading it again: keys
 * of two consecutive chunks never meet, so a thread relabelled in one chunk and not in the
 * one before, or a stack of another chunk, is never taken for another.
 *
 * <p>Storage is compact and allocation-free per event: strings and class names in
 * {@link ObjectIndex}es, methods (class, name, descriptor) and stack traces (truncated, then per
 * frame method, line, bci, frame type) as int sequences in {@link IntSequences}, threads in an
 * array probed by OS thread id (virtual threads by Java id). A stack seen before as the same {@link JfrStack} object (the
 * symbolizer caches them) is found by identity without looking at its frames.
 *
 * <p>Filled on the thread that writes events; then handed to the writer thread, which writes
 * it into the chunk ({@link #write}) and clears it for reuse.
 */
final class ChunkPools {
    /** Stacks remembered by identity at most; beyond, they are found by their frames. */
    static final int MAX_IDENTITY_STACKS = 8192;
    private static final String DEFAULT_DESCRIPTOR = "()V";

    private int parity;
    private final ObjectIndex<String> strings = new ObjectIndex<>(false);
    private long stringChars;
    private final ObjectIndex<String> classes = new ObjectIndex<>(false);
    private final IntSequences methods = new IntSequences();
    private final ObjectIndex<String> frameTypes = new ObjectIndex<>(false);
    private final IntSequences stacks = new IntSequences();
    private final ObjectIndex<JfrStack> stacksByIdentity = new ObjectIndex<>(true);
    private int[] stackOfIdentity = new int[64];
    private int[] scratch = new int[256];
    private final int[] method = new int[3];

    private JfrThread[] threads = new JfrThread[16];
    private int[] threadSlots = new int[32]; // index + 1 by OS thread id, 0 = free
    private int[] nextSameTid = new int[16];
    private int threadCount;
    private JfrThread lastThread;
    private int lastThreadIndex;

    /** Starts the pools of a chunk whose keys have this parity (0 or 1). */
    void reset(int parity) {
        this.parity = parity;
        strings.clear();
        stringChars = 0;
        classes.clear();
        methods.clear();
        frameTypes.clear();
        stacks.clear();
        stacksByIdentity.clear();
        Arrays.fill(threads, 0, threadCount, null);
        Arrays.fill(threadSlots, 0);
        threadCount = 0;
        lastThread = null;
    }

    long key(int index) {
        return ((long) index + 1 << 1) | parity;
    }

    /** The key of a non-empty string. */
    long string(String s) {
        return key(stringIndex(s));
    }

    /** A string field of an event: null and empty inline, any other by its key in this pool. */
    void string(EventEncoder out, String s) {
        if (s == null) {
            out.rawByte(EventEncoder.STRING_NULL);
        } else if (s.isEmpty()) {
            out.rawByte(EventEncoder.STRING_EMPTY);
        } else {
            out.pooledString(string(s));
        }
    }

    private int stringIndex(String s) {
        int before = strings.size();
        int index = strings.add(s);
        if (strings.size() != before) {
            stringChars += s.length();
        }
        return index;
    }

    long thread(JfrThread t) {
        if (t == lastThread) {
            return key(lastThreadIndex);
        }
        long tid = poolKey(t);
        int mask = threadSlots.length - 1;
        int slot = slotOf(tid, mask);
        int first = -1;
        while (threadSlots[slot] != 0) {
            int index = threadSlots[slot] - 1;
            if (poolKey(threads[index]) == tid) {
                first = index;
                break;
            }
            slot = (slot + 1) & mask;
        }
        for (int index = first; index >= 0; index = nextSameTid[index]) {
            if (sameThread(threads[index], t)) {
                lastThread = t;
                lastThreadIndex = index;
                return key(index);
            }
        }
        return key(addThread(t, first, slot));
    }

    /** Numbers a thread not in the pool yet ({@code first}: the newest entry of its tid, or -1; {@code slot}: its slot). */
    private int addThread(JfrThread t, int first, int slot) {
        if (threadCount == threads.length) {
            threads = Arrays.copyOf(threads, threadCount * 2);
            nextSameTid = Arrays.copyOf(nextSameTid, threadCount * 2);
        }
        int index = threadCount++;
        threads[index] = t;
        // the newest entry of a tid heads its chain
        nextSameTid[index] = first;
        threadSlots[slot] = index + 1;
        if (threadCount * 2 > threadSlots.length) {
            rehashThreads(threadSlots.length * 2);
        }
        lastThread = t;
        lastThreadIndex = index;
        return index;
    }

    private static boolean sameThread(JfrThread a, JfrThread b) {
        return a.javaThreadId() == b.javaThreadId() && a.virtual() == b.virtual() && equal(a.osName(), b.osName())
                && equal(a.javaName(), b.javaName());
    }

    private static boolean equal(String a, String b) {
        return a == null ? b == null : a.equals(b);
    }

    /**
     * What the thread table is probed by: the OS thread id, or for a virtual thread (no OS thread
     * of its own: JFR writes 0) its Java id, negated so that it never meets a tid.
     */
    private static long poolKey(JfrThread t) {
        return t.virtual() ? -1 - t.javaThreadId() : t.osThreadId();
    }

    private static int slotOf(long tid, int mask) {
        long h = tid * 0x9e3779b97f4a7c15L;
        return (int) (h ^ h >>> 32) & mask;
    }

    private void rehashThreads(int capacity) {
        int[] table = new int[capacity];
        int mask = capacity - 1;
        for (int index = 0; index < threadCount; index++) {
            JfrThread t = threads[index];
            int slot = slotOf(poolKey(t), mask);
            while (table[slot] != 0 && poolKey(threads[table[slot] - 1]) != poolKey(t)) {
                slot = (slot + 1) & mask;
            }
            // entries were added oldest first: the last one seen per tid heads the chain
            table[slot] = index + 1;
        }
        threadSlots = table;
    }

    /**
     * Gives the entries of OS threads that had no Java identity the thread the map names (the
     * JVM's recording saw who they were).
     */
    void relabel(Map<Long, JfrThread> byOsThreadId) {
        for (int i = 0; i < threadCount; i++) {
            JfrThread t = threads[i];
            if (!t.isJava()) {
                JfrThread named = byOsThreadId.get(t.osThreadId());
                if (named != null) {
                    threads[i] = named;
                }
            }
        }
        lastThread = null;
    }

    /**
     * Gives the entries of virtual threads written unnamed (they had ended before the agent read
     * their names) the thread the map names by Java id (the JVM's recording saw them).
     */
    void relabelVirtual(Map<Long, JfrThread> byJavaThreadId) {
        for (int i = 0; i < threadCount; i++) {
            JfrThread t = threads[i];
            if (t.virtual() && t.javaName().isEmpty()) {
                JfrThread named = byJavaThreadId.get(t.javaThreadId());
                if (named != null && named.virtual()) {
                    threads[i] = named;
                }
            }
        }
        lastThread = null;
    }

    long stack(JfrStack s) {
        int known = stacksByIdentity.find(s);
        if (known >= 0) {
            return key(stackOfIdentity[known]);
        }
        return key(stackIndex(s));
    }

    /**
     * A stack not seen as this object: found or numbered by its frames. Apart from
     * {@link #stack}, whose look-up by identity is what the JIT inlines into the writing of
     * each event.
     */
    private int stackIndex(JfrStack s) {
        List<JfrFrame> frames = s.frames();
        int n = frames.size();
        int length = 2 + 4 * n;
        if (scratch.length < length) {
            scratch = new int[Math.max(length, scratch.length * 2)];
        }
        int[] seq = scratch;
        seq[0] = s.truncated() ? 1 : 0;
        seq[1] = n;
        for (int i = 0, at = 2; i < n; i++, at += 4) {
            JfrFrame f = frames.get(i);
            seq[at] = methodIndex(f);
            seq[at + 1] = f.lineNumber();
            seq[at + 2] = f.bytecodeIndex();
            seq[at + 3] = frameTypes.add(f.type() == null ? "" : f.type());
        }
        int index = stacks.add(seq, length);
        if (stacksByIdentity.size() < MAX_IDENTITY_STACKS) {
            int id = stacksByIdentity.add(s);
            if (id >= stackOfIdentity.length) {
                stackOfIdentity = Arrays.copyOf(stackOfIdentity, stackOfIdentity.length * 2);
            }
            stackOfIdentity[id] = index;
        }
        return index;
    }

    private int methodIndex(JfrFrame f) {
        String className = f.className() == null ? "" : f.className();
        int before = classes.size();
        int classIndex = classes.add(className);
        if (classes.size() != before) {
            stringIndex(className); // a class's name is written by its string key
        }
        String descriptor = f.descriptor() == null || f.descriptor().isEmpty() ? DEFAULT_DESCRIPTOR : f.descriptor();
        method[0] = classIndex;
        method[1] = stringIndex(f.methodName() == null ? "" : f.methodName());
        method[2] = stringIndex(descriptor);
        return methods.add(method, 3);
    }

    /** A rough count of the bytes this chunk's pools take, in memory and in the file. */
    long weight() {
        return stringChars + 16L * strings.size() + 16L * classes.size() + 16L * methods.size()
                + 4L * stacks.ints() + 16L * stacks.size() + 16L * stacksByIdentity.size() + 64L * threadCount;
    }

    /**
     * Writes the checkpoint event holding every pool (size, type 1, start, duration 0, delta 0
     * to the next: none, flush, pool count, then per pool its type id, count and entries). Empty
     * pools are left out: the JDK's parser rejects a pool without entries.
     */
    void write(EventEncoder out, long startTicks) {
        int start = out.size();
        int sizeAt = out.reservePaddedVarInt();
        out.varLong(1);
        out.varLong(startTicks);
        out.varLong(0);
        out.varLong(0);
        out.rawByte(1);
        int pools = (threadCount > 0 ? 1 : 0) + (stacks.size() > 0 ? 1 : 0) + (methods.size() > 0 ? 1 : 0)
                + (classes.size() > 0 ? 1 : 0) + (frameTypes.size() > 0 ? 1 : 0) + (strings.size() > 0 ? 1 : 0);
        out.varInt(pools);
        if (threadCount > 0) {
            writeThreads(out);
        }
        if (stacks.size() > 0) {
            writeStacks(out);
        }
        if (methods.size() > 0) {
            writeMethods(out);
        }
        if (classes.size() > 0) {
            out.varLong(Metadata.CLASS);
            out.varInt(classes.size());
            for (int i = 0; i < classes.size(); i++) {
                out.varLong(key(i));
                out.pooledString(key(strings.find(classes.get(i))));
                out.varInt(0); // modifiers
                out.rawByte(0); // hidden
            }
        }
        if (frameTypes.size() > 0) {
            out.varLong(Metadata.FRAME_TYPE);
            out.varInt(frameTypes.size());
            for (int i = 0; i < frameTypes.size(); i++) {
                out.varLong(key(i));
                out.string(frameTypes.get(i));
            }
        }
        if (strings.size() > 0) {
            out.varLong(Metadata.STRING);
            out.varInt(strings.size());
            for (int i = 0; i < strings.size(); i++) {
                out.varLong(key(i));
                out.string(strings.get(i));
            }
        }
        out.paddedVarInt(sizeAt, out.size() - start);
    }

    private void writeThreads(EventEncoder out) {
        out.varLong(Metadata.THREAD);
        out.varInt(threadCount);
        for (int i = 0; i < threadCount; i++) {
            JfrThread t = threads[i];
            out.varLong(key(i));
            out.string(t.osName());
            out.varLong(t.osThreadId());
            out.string(t.javaName());
            out.varLong(t.javaThreadId());
            out.rawByte(t.virtual() ? 1 : 0);
        }
    }

    private void writeStacks(EventEncoder out) {
        out.varLong(Metadata.STACK_TRACE);
        out.varInt(stacks.size());
        int[] data = stacks.data();
        for (int i = 0; i < stacks.size(); i++) {
            int at = stacks.start(i);
            out.varLong(key(i));
            out.rawByte(data[at]);
            int n = data[at + 1];
            out.varInt(n);
            for (int f = 0, p = at + 2; f < n; f++, p += 4) {
                out.varLong(key(data[p]));
                out.varInt(data[p + 1]);
                out.varInt(data[p + 2]);
                out.varLong(key(data[p + 3]));
            }
        }
    }

    private void writeMethods(EventEncoder out) {
        out.varLong(Metadata.METHOD);
        out.varInt(methods.size());
        int[] data = methods.data();
        for (int i = 0; i < methods.size(); i++) {
            int at = methods.start(i);
            out.varLong(key(i));
            out.varLong(key(data[at]));
            out.pooledString(key(data[at + 1]));
            out.pooledString(key(data[at + 2]));
            out.varInt(0); // modifiers
            out.rawByte(0); // hidden
        }
    }
}
