package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.NativeFunction;
import io.jfrebpf.agent.os.ProcMaps;
import io.jfrebpf.agent.os.Tid;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a BPF program finds the frame anchor of the Java thread it interrupted: the last Java
 * frame (sp, pc, fp) that HotSpot records in {@code JavaThread::_anchor} whenever the thread
 * leaves Java code for native code or the VM. A call from compiled code into the VM through a
 * runtime stub (an uncommon trap, a deoptimization, the slow paths of C2's allocations) sets it
 * too while the thread state stays {@code _thread_in_Java}; running Java code keeps it clear, so
 * in that state a set anchor is believed as well. The stack walk (bpf/stack.bpf.h) checks native
 * frames against it and resumes there when a frame-pointer chain through code without frame
 * pointers (libc) ran into stale frames.
 *
 * <p>The JavaThread is found the way {@code Thread::current()} finds it: libjvm's thread-local
 * {@code Thread::_thr_current}, in libjvm's TLS block, which glibc's dtv (second word of the
 * thread control block at the fs base) lists by module id. The module id comes from
 * {@code dlinfo(RTLD_DI_TLS_MODID)}, field offsets and thread states from VMStructs, and the
 * variable's offset from the calling thread's own block: the word there that points to a
 * JavaThread whose OS thread id is the caller's (no symbol table needed: a stripped libjvm works
 * too, and FrameAnchorsTest checks the offset against {@code readelf}). Another thread's block
 * must give the same before a program relies on it.
 *
 * @param tlsModule libjvm's TLS module id (index in the dtv)
 * @param tlsOffset offset of {@code Thread::_thr_current} in libjvm's TLS block
 * @param anchorOffset offset of {@code JavaThread::_anchor} (last Java sp, pc, fp follow each other)
 * @param stateOffset offset of {@code JavaThread::_thread_state}
 * @param stackBaseOffset offset of the thread's stack base (its highest address)
 * @param anchorStates a bit per thread state ({@code 1 << state}) in which the anchor, when set, is believed
 */
public record FrameAnchors(long tlsModule, long tlsOffset, long anchorOffset, long stateOffset, long stackBaseOffset,
        long anchorStates) {
    /** The program reads the three fields in one read of at most this many bytes (its scratch buffer). */
    static final long MAX_WINDOW = 512;

    private static final NativeFunction PTHREAD_SELF = NativeFunction.libc("pthread_self");
    private static final NativeFunction DLOPEN = NativeFunction.libc("dlopen");
    private static final NativeFunction DLINFO = NativeFunction.libc("dlinfo");
    private static final NativeFunction DLCLOSE = NativeFunction.libc("dlclose");
    private static final int RTLD_LAZY = 1;
    private static final int RTLD_NOLOAD = 4;
    private static final int RTLD_DI_TLS_MODID = 9;
    private static final String[] ANCHORED_STATES = {"_thread_in_native", "_thread_in_native_trans", "_thread_in_vm",
        "_thread_in_vm_trans", "_thread_blocked", "_thread_blocked_trans", "_thread_in_Java"};

    /** The anchors of this JVM, or empty with the reason logged (stacks are then walked without them). */
    public static Optional<FrameAnchors> find(VmStructs vm) {
        try {
            FrameAnchors a = locate(vm);
            Log.debug("frame anchors: libjvm TLS module %d, Thread::_thr_current at +0x%x, JavaThread::_anchor at +%d", a.tlsModule,
                    a.tlsOffset, a.anchorOffset);
            return Optional.of(a);
        } catch (Throwable e) {
            Log.info("stacks are walked without HotSpot's frame anchors (%s): frames after native code without frame"
                    + " pointers may be stale", e.getMessage());
            return Optional.empty();
        }
    }

    /** The anchors of this JVM, checked on another thread; throws with the reason when they cannot be found. */
    static FrameAnchors locate(VmStructs vm) throws Throwable {
        Optional<Path> mapped = ProcMaps.selfAtStart().libjvm();
        if (mapped.isEmpty()) {
            throw new IllegalStateException("libjvm not mapped");
        }
        Path libjvm = mapped.get();
        long anchor = vm.requireField("JavaThread", "_anchor");
        if (vm.requireField("JavaFrameAnchor", "_last_Java_sp") != 0 || vm.requireField("JavaFrameAnchor", "_last_Java_pc") != 8
                || vm.requireField("JavaFrameAnchor", "_last_Java_fp") != 16) {
            throw new IllegalStateException("JavaFrameAnchor is not laid out as (sp, pc, fp)");
        }
        long states = 0;
        for (String name : ANCHORED_STATES) {
            int state = vm.requireConstant(name);
            if (state < 0 || state >= 64) {
                throw new IllegalStateException(name + " = " + state);
            }
            states |= 1L << state;
        }
        OptionalLong ownStackBase = vm.fieldOffset("JavaThread", "_stack_base");
        long stackBase = ownStackBase.isPresent() ? ownStackBase.getAsLong() : vm.requireField("Thread", "_stack_base");
        long module = tlsModule(libjvm);
        Optional<OsThreadIds> osThreads = OsThreadIds.of(vm);
        if (osThreads.isEmpty()) {
            throw new IllegalStateException("VMStructs lack _osthread");
        }
        OsThreadIds ids = osThreads.get();
        FrameAnchors a = new FrameAnchors(module, threadCurrentOffset(module, ids), anchor,
                vm.requireField("JavaThread", "_thread_state"), stackBase, states);
        if (a.windowSize() > MAX_WINDOW || (stackBase & 7) != 0 || (anchor & 7) != 0 || (a.stateOffset & 3) != 0) {
            throw new IllegalStateException("JavaThread's anchor, state and stack base are not within one read ("
                    + a.windowSize() + " bytes)");
        }
        a.checkOnAnotherThread(ids);
        return a;
    }

    /**
     * The calling thread's HotSpot Thread (its JavaThread), read the way the BPF programs read
     * it (TLS block + Thread::_thr_current); 0 when unreadable. On a virtual thread: its carrier's.
     */
    long currentThread() throws Throwable {
        return SafeMemory.readLong(tlsBlock(tlsModule) + tlsOffset, 0);
    }

    /** Bytes of libjvm's TLS block looked at for Thread::_thr_current (libjvm 25 has 0x50). */
    static final int TLS_SCAN_BYTES = 512;

    /** The offset in libjvm's TLS block of the word that holds the calling thread's JavaThread. */
    private static long threadCurrentOffset(long module, OsThreadIds ids) throws Throwable {
        long block = tlsBlock(module);
        int self = Tid.current();
        if (self == 0) {
            throw new IllegalStateException("gettid unavailable");
        }
        for (long off = 0; off < TLS_SCAN_BYTES; off += 8) {
            long thread = SafeMemory.readLong(block + off, 0);
            if (thread != 0 && (thread & 7) == 0 && ids.of(thread) == self) {
                return off;
            }
        }
        throw new IllegalStateException(String.format("no word of libjvm's TLS block (0x%x) leads to this thread's JavaThread",
                block));
    }

    /** The calling thread's block of the TLS module: dtv[module] of its thread control block (glibc, x86-64). */
    private static long tlsBlock(long module) throws Throwable {
        long tcb = PTHREAD_SELF.call(); // glibc on x86-64: the thread control block, at the fs base
        long dtv = SafeMemory.readLong(tcb + 8, 0);
        long block = dtv == 0 ? 0 : SafeMemory.readLong(dtv + 16 * module, 0);
        if (block == 0 || block == -1) {
            throw new IllegalStateException(String.format("no TLS block of module %d (dtv 0x%x)", module, dtv));
        }
        return block;
    }

    /** Where the one read of the JavaThread's fields starts (8-aligned). */
    public long windowOffset() {
        return Math.min(anchorOffset, Math.min(stateOffset, stackBaseOffset)) & ~7L;
    }

    /** How many bytes that read takes: up to the end of the last of the fields. */
    public long windowSize() {
        return Math.max(anchorOffset + 24, Math.max(stateOffset + 4, stackBaseOffset + 8)) - windowOffset();
    }

    /** libjvm's TLS module id, from the dynamic linker. */
    private static long tlsModule(Path libjvm) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            long handle = DLOPEN.call(arena.allocateFrom(libjvm.toString()).address(), RTLD_LAZY | RTLD_NOLOAD);
            if (handle == 0) {
                throw new IllegalStateException("dlopen(RTLD_NOLOAD) does not know " + libjvm);
            }
            try {
                MemorySegment id = arena.allocate(ValueLayout.JAVA_LONG);
                int rc = (int) DLINFO.call(handle, RTLD_DI_TLS_MODID, id.address());
                long module = id.get(ValueLayout.JAVA_LONG, 0);
                if (rc != 0 || module <= 0 || module > 4096) {
                    throw new IllegalStateException("dlinfo(RTLD_DI_TLS_MODID) gave " + rc + ", module " + module);
                }
                return module;
            } finally {
                DLCLOSE.call(handle);
            }
        }
    }

    /** Follows the path a program will follow on another Java thread: it must lead to that thread's JavaThread. */
    private void checkOnAnotherThread(OsThreadIds ids) throws Throwable {
        OtherThread check = new OtherThread(this, ids);
        Thread t = new Thread(check, "jfr-ebpf-anchor-check");
        t.setDaemon(true);
        t.start();
        t.join(5_000);
        if (t.isAlive() || check.failure != null) {
            throw check.failure != null ? check.failure : new IllegalStateException("the check on another thread did not end");
        }
    }

    /** The check's thread (a class, not a lambda: a lambda costs a spun class at start-up). */
    private static final class OtherThread implements Runnable {
        private final FrameAnchors anchors;
        private final OsThreadIds ids;
        volatile Throwable failure;

        OtherThread(FrameAnchors anchors, OsThreadIds ids) {
            this.anchors = anchors;
            this.ids = ids;
        }

        @Override
        public void run() {
            try {
                long thread = SafeMemory.readLong(tlsBlock(anchors.tlsModule) + anchors.tlsOffset, 0);
                int tid = thread == 0 ? 0 : ids.of(thread);
                long base = thread == 0 ? 0 : SafeMemory.readLong(thread + anchors.stackBaseOffset, 0);
                if (tid != Tid.current() || base == 0) {
                    throw new IllegalStateException(String.format("on another thread the TLS path leads to 0x%x (tid %d, stack"
                            + " base 0x%x), not to its JavaThread", thread, tid, base));
                }
            } catch (Throwable e) {
                failure = e;
            }
        }
    }
}
