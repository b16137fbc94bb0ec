package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.jfr.JfrFrame;
import io.jfrebpf.agent.jfr.JfrStack;
import io.jfrebpf.agent.jvm.CodeCache;
import io.jfrebpf.agent.jvm.JavaMethods;
import io.jfrebpf.agent.jvm.JavaMethods.JavaMethod;
import io.jfrebpf.agent.jvm.StubNames;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.events.read.FrameTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Turns the stacks captured in the kernel into JFR stack traces: kernel frames (named by the
 * kernel, {@link KernelFunctions}), then
 * the user frames — interpreted Java frames from their Method* and bcp, JIT frames with the
 * methods inlined at their pc, HotSpot stubs by name, native frames by ELF symbol. Runs on the
 * agent's poller thread, never on an application thread; the symbol tables are read there when
 * a frame first needs them. Everything is cached and bounded, in {@link FrameCache}s: a stack by
 * its kernel keys, a pc by its value (one frame, or an array of them for a pc with inlined
 * methods), a kernel pc's frame by its value, a kernel function's frame by its start (shared by
 * every kernel stack through it). A
 * stack found in its cache costs no allocation.
 */
public final class Symbolizer {
    /**
     * The "class" of frames that are not Java methods: their module (libc.so.6), or one of these.
     * Not "[kernel]": JMC reads a class name that starts with '[' as an array descriptor and
     * fails on the frame.
     */
    public static final String KERNEL_MODULE = "kernel";
    public static final String JVM_CODE = "hotspot";
    public static final String UNKNOWN_MODULE = "unknown";
    /**
     * The name (under {@link #JVM_CODE}) of a frame of compiled code whose nmethod was freed, or
     * replaced by another, before the frame was named: which methods ran there cannot be told any
     * more, and the code found at its pc now is not what ran.
     */
    public static final String FREED_CODE = "[compiled code freed]";

    private static final int STACK_CACHE = 8192;
    private static final int PC_CACHE = 65_536;
    private static final int KERNEL_FUNCTIONS = 16_384;
    private static final int COMPILED_METHODS = 16_384;
    /**
     * How long a name stays cached: an unloaded class's Method* can be reused for another method
     * (an interpreted frame records its Method*), and a stub's code freed, so names of pcs, stacks
     * and methods are forgotten this often and read again. Compiled code does not wait for it: its
     * names are cached by pc and compile id, and checked against the nmethod found there.
     */
    static final long RENAME_NS = 60_000_000_000L;

    /** Counters for the status line and the benchmark. */
    public record Stats(long stacks, long stacksLost, long stacksResumed, long stacksIncomplete, long mapLookups, long frames, long javaFrames, long interpretedFrames,
            long inlinedFrames, long jitFrames, long nativeFrames, long kernelFrames, long unresolvedFrames,
            long nanos, long loadNanos) {
    }

    private final StackMaps maps;
    private final CodeCache code;
    private final JavaMethods methods;
    private final NativeSymbols natives = new NativeSymbols();
    /** Where kernel functions are named (the kernel, else kallsyms; tests give their own). */
    private final Supplier<KernelFunctions> kernelSymbols;
    /** Opened when the first kernel frame needs a name. */
    private KernelFunctions kernel;
    /** The pcs of one kernel stack not named yet, and what naming gave them. */
    private long[] kernelMisses = new long[64];
    private long[] kernelStarts = new long[64];
    private String[] kernelNamesFound = new String[64];
    /** Stacks by (user stack key, kernel stack id, kernel pcs of the record). */
    private final FrameCache<JfrStack> stacks = new FrameCache<>(STACK_CACHE);
    /**
     * The frames of a pc that is not interpreted: a JfrFrame, or a JfrFrame[] (inlined methods,
     * innermost first); by pc and, in the int, twice the compile id of the nmethod the kernel's walk
     * found there (-1 for other code) plus 0 at a return address (a call site) or 1 for the
     * innermost frame (any pc), which is named apart. The compile id makes the key that of one
     * compilation's code: a pc whose nmethod was freed and whose space another took is another key.
     */
    private final FrameCache<Object> pcs = new FrameCache<>(PC_CACHE);
    /**
     * The methods of compilations as read while their nmethods lived: by Method* (0 for the
     * nmethod's own method, named where a pc has no debug information) and compile id. A frame of
     * an nmethod freed before it was named is named by these (and the nmethod's debug information,
     * kept by compile id as well), never by what took its space.
     */
    private final FrameCache<JavaMethod> compiledMethods = new FrameCache<>(COMPILED_METHODS);
    /** A method jitFrames read of a compilation: its Method* (or OWN_METHOD) and what it was. */
    private record MethodRead(long method, JavaMethod name) {
    }

    /** What jitFrames read last, kept once the nmethod is known to have stayed. */
    private final List<MethodRead> compiledRead = new ArrayList<>();
    private static final long OWN_METHOD = 0;
    /** The names of the stubs in HotSpot's stub buffers: given, or read when a stub frame is first named. */
    private Optional<StubNames> stubs;
    /** Kernel stacks by id (the int) or by the pcs a record carried. */
    private final FrameCache<List<JfrFrame>> kernelStacks = new FrameCache<>(STACK_CACHE);
    /** The frame of a kernel function, by its start address. */
    private final FrameCache<JfrFrame> kernelFunctions = new FrameCache<>(KERNEL_FUNCTIONS);
    /** The frame of a kernel pc (its function's), by the pc; an unresolved pc's own frame. */
    private final FrameCache<JfrFrame> kernelPcs = new FrameCache<>(PC_CACHE);
    private long stackCount;
    private long stacksLost;
    /** Distinct user stacks whose native frames the kernel's walk left out as stale (UserStack.resumed). */
    private long stacksResumed;
    /** Distinct user stacks the kernel's walk ended at a frame it could not unwind (UserStack.incomplete). */
    private long stacksIncomplete;
    private long mapLookups;
    private long frames;
    private long javaFrames;
    private long interpretedFrames;
    private long inlinedFrames;
    private long jitFrames;
    private long nativeFrames;
    private long kernelFrames;
    private long unresolvedFrames;
    private long nanos;
    /** Time spent opening kernel naming (loading its program, or reading kallsyms). */
    private long kernelLoadNanos;
    private long namedSince = System.nanoTime();
    private final long renameNs;

    /** code and methods are null when HotSpot's structures are not readable: Java frames then show as unresolved. */
    public Symbolizer(StackMaps maps, CodeCache code, JavaMethods methods) {
        this(maps, code, methods, RENAME_NS);
    }

    /** With the stub names already read (for the kernel's walk): read once. */
    public Symbolizer(StackMaps maps, CodeCache code, JavaMethods methods, Optional<StubNames> stubs) {
        this(maps, code, methods, RENAME_NS);
        this.stubs = stubs;
    }

    Symbolizer(StackMaps maps, CodeCache code, JavaMethods methods, long renameNs) {
        this(maps, code, methods, renameNs, KernelFunctions::open);
    }

    Symbolizer(StackMaps maps, CodeCache code, JavaMethods methods, long renameNs, Supplier<? extends KernelFunctions> kernelSymbols) {
        this.kernelSymbols = kernelSymbols::get;
        this.maps = maps;
        this.code = code;
        this.methods = methods;
        this.renameNs = renameNs;
    }

    /** The stack of an event: kernel frames first (innermost), then user frames; null when it has none. */
    public synchronized JfrStack stack(long userStack, int kernelStackId) {
        return stack(userStack, kernelStackId, null);
    }

    /** The stack of an event whose kernel frames (innermost first) came in the record itself. */
    public synchronized JfrStack stack(long userStack, long[] kernelPcs) {
        return stack(userStack, -1, kernelPcs.length == 0 ? null : kernelPcs);
    }

    private JfrStack stack(long userStack, int kernelStackId, long[] inline) {
        if (userStack == 0 && kernelStackId < 0 && inline == null) {
            return null;
        }
        if (System.nanoTime() - namedSince >= renameNs) {
            stacks.clear();
            pcs.clear();
            if (methods != null) {
                methods.forget();
            }
            namedSince = System.nanoTime();
        }
        JfrStack s = stacks.get(userStack, kernelStackId, inline);
        if (s != null) {
            stackCount++;
            return s;
        }
        long start = System.nanoTime();
        try {
            List<JfrFrame> out = new ArrayList<>();
            boolean truncated = false;
            boolean lost = false;
            if (kernelStackId >= 0) {
                out.addAll(kernelFrames(kernelStackId));
            } else if (inline != null) {
                out.addAll(kernelFrames(inline));
            }
            if (userStack != 0) {
                mapLookups++;
                Optional<UserStack> u = maps.user(userStack);
                if (u.isEmpty()) {
                    lost = true;
                    stacksLost++;
                    out.add(new JfrFrame(UNKNOWN_MODULE, "[stack lost]", "", -1, -1, FrameTypes.NATIVE));
                } else {
                    truncated = u.get().truncated() || u.get().incomplete() || u.get().continuation();
                    if (u.get().resumed()) {
                        stacksResumed++;
                    }
                    if (u.get().incomplete()) {
                        stacksIncomplete++;
                    }
                    userFrames(u.get(), out);
                }
            }
            s = new JfrStack(List.copyOf(out), truncated);
            if (!lost) {
                stacks.put(userStack, kernelStackId, inline, s); // a lost stack is looked up again: the kernel stores it anew when it recurs
            }
            stackCount++;
            return s;
        } catch (BpfException | RuntimeException e) {
            stacksLost++;
            Log.debug("stack not resolved: %s", e);
            return null;
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    private List<JfrFrame> kernelFrames(int id) throws BpfException {
        List<JfrFrame> cached = kernelStacks.get(0, id, null);
        if (cached != null) {
            kernelFrames += cached.size();
            frames += cached.size();
            return cached;
        }
        mapLookups++;
        Optional<long[]> ips = maps.kernel(id);
        if (ips.isEmpty()) {
            return List.of();
        }
        List<JfrFrame> list = kernelNames(ips.get());
        kernelStacks.put(0, id, null, list);
        kernelFrames += list.size();
        frames += list.size();
        return list;
    }

    private List<JfrFrame> kernelFrames(long[] inline) {
        List<JfrFrame> cached = kernelStacks.get(0, -1, inline);
        if (cached == null) {
            cached = kernelNames(inline);
            kernelStacks.put(0, -1, inline, cached);
        }
        kernelFrames += cached.size();
        frames += cached.size();
        return cached;
    }

    private List<JfrFrame> kernelNames(long[] stack) {
        JfrFrame[] frames = new JfrFrame[stack.length];
        int misses = 0;
        for (int i = 0; i < stack.length; i++) {
            frames[i] = kernelPcs.get(stack[i], 0, null);
            if (frames[i] == null) {
                if (misses == kernelMisses.length) {
                    kernelMisses = java.util.Arrays.copyOf(kernelMisses, misses * 2);
                }
                kernelMisses[misses++] = stack[i];
            }
        }
        if (misses > 0) {
            nameKernelPcs(misses);
            for (int i = 0; i < stack.length; i++) {
                if (frames[i] == null) {
                    frames[i] = kernelPcs.get(stack[i], 0, null);
                }
            }
        }
        // a stack taken from a tracepoint program starts in that program and the trampoline that
        // ran it (bpf_trace_run<n>): not where the event happened. The cut is at the trampoline
        // (a program read from kallsyms before it was loaded has no name).
        int from = 0;
        for (int i = 0; i < Math.min(4, stack.length); i++) {
            String name = frames[i].methodName();
            if (name.startsWith("bpf_trace_run") || name.startsWith("__bpf_trace_")) {
                from = i + 1;
            }
        }
        for (int i = from; i < stack.length; i++) {
            if (frames[i].methodName().startsWith("0x")) {
                unresolvedFrames++;
            }
        }
        return List.of(from == 0 ? frames : java.util.Arrays.copyOfRange(frames, from, stack.length));
    }

    /** Names the first {@code count} of {@link #kernelMisses} in one go and caches a frame for each. */
    private void nameKernelPcs(int count) {
        if (kernel == null) {
            long start = System.nanoTime();
            kernel = kernelSymbols.get();
            kernelLoadNanos += System.nanoTime() - start;
        }
        if (kernelStarts.length < count) {
            kernelStarts = new long[kernelMisses.length];
            kernelNamesFound = new String[kernelMisses.length];
        }
        kernel.resolve(kernelMisses, count, kernelStarts, kernelNamesFound);
        for (int i = 0; i < count; i++) {
            long pc = kernelMisses[i];
            JfrFrame f = kernelNamesFound[i] == null ? unresolvedKernelFrame(pc) : kernelFrame(kernelStarts[i], kernelNamesFound[i]);
            kernelPcs.put(pc, 0, null, f);
            kernelNamesFound[i] = null;
        }
    }

    /** The frame of the kernel function that starts at {@code start}: one frame object for all its pcs. */
    private JfrFrame kernelFrame(long start, String name) {
        JfrFrame f = kernelFunctions.get(start, 0, null);
        if (f == null || !f.methodName().equals(name)) {
            f = new JfrFrame(KERNEL_MODULE, name, "", -1, -1, FrameTypes.KERNEL);
            kernelFunctions.put(start, 0, null, f);
        }
        return f;
    }

    private static final JfrFrame FREED = new JfrFrame(JVM_CODE, FREED_CODE, "", -1, -1, FrameTypes.NATIVE);

    private static JfrFrame unresolvedKernelFrame(long pc) {
        return new JfrFrame(KERNEL_MODULE, "0x" + Long.toHexString(pc), "", -1, -1, FrameTypes.KERNEL);
    }

    /** The frames of a user stack alone (tests feed it garbage). */
    synchronized List<JfrFrame> frames(UserStack u) {
        List<JfrFrame> out = new ArrayList<>();
        userFrames(u, out);
        return out;
    }

    private void userFrames(UserStack u, List<JfrFrame> out) {
        for (int i = 0; i < u.depth(); i++) {
            if (u.interpreted(i)) {
                out.add(interpreted(u.pcs()[i], u.bcps()[i]));
                frames++;
                continue;
            }
            // the innermost frame is at any pc, every other one at a return address (a call site)
            boolean atReturn = !u.anyPc(i);
            int compileId = u.compileIds()[i];
            int kind = 2 * compileId + (atReturn ? 0 : 1); // one to one: compile ids are ints from -1 up
            Object f = pcs.get(u.pcs()[i], kind, null);
            if (f == null) {
                List<JfrFrame> named = resolve(u.pcs()[i], atReturn, compileId);
                f = named.size() == 1 ? named.get(0) : named.toArray(JfrFrame[]::new);
                pcs.put(u.pcs()[i], kind, null, f);
            }
            if (f instanceof JfrFrame one) {
                count(one);
                out.add(one);
            } else {
                for (JfrFrame frame : (JfrFrame[]) f) {
                    count(frame);
                    out.add(frame);
                }
            }
        }
    }

    private void count(JfrFrame f) {
        frames++;
        switch (f.type()) {
            case FrameTypes.JIT_COMPILED -> {
                jitFrames++;
                javaFrames++;
            }
            case FrameTypes.INLINED -> {
                inlinedFrames++;
                javaFrames++;
            }
            default -> {
                nativeFrames++;
                if (f.className().equals(UNKNOWN_MODULE) || f.methodName().startsWith("0x") || f.methodName().equals(FREED_CODE)) {
                    unresolvedFrames++;
                }
            }
        }
    }

    private JfrFrame interpreted(long method, long bcp) {
        Optional<JavaMethod> m = methods == null ? Optional.empty() : methods.method(method);
        if (m.isEmpty()) {
            unresolvedFrames++;
            return new JfrFrame(JVM_CODE, "Interpreter", "", -1, -1, FrameTypes.INTERPRETED);
        }
        javaFrames++;
        interpretedFrames++;
        JavaMethod jm = m.get();
        int bci = bcp > 0 ? jm.bci(bcp) : 0;
        return new JfrFrame(jm.className(), jm.name(), jm.descriptor(), bci < 0 ? -1 : jm.line(bci), bci, FrameTypes.INTERPRETED);
    }

    /**
     * The frames of one pc of JIT code, a stub or native code; a JIT pc may stand for several
     * inlined methods, those of its call site when it is a return address (atReturn). compileId:
     * that of the nmethod the kernel's walk found at pc, or {@link UserStack#NO_COMPILE_ID}; the
     * frame is named by that nmethod only, checked to be still there once its names are read,
     * else it is {@link #FREED_CODE}: never by the code that took its space.
     */
    private List<JfrFrame> resolve(long pc, boolean atReturn, int compileId) {
        if (code != null && code.contains(pc)) {
            Optional<CodeCache.Blob> blob = code.blobAt(pc);
            boolean sampled = compileId != UserStack.NO_COMPILE_ID;
            if (sampled && (blob.isEmpty() || !blob.get().isNMethod() || blob.get().compileId() != compileId)) {
                return freedFrames(pc, atReturn, compileId);
            }
            if (blob.isPresent()) {
                CodeCache.Blob b = blob.get();
                List<JfrFrame> java = b.isNMethod() && methods != null ? jitFrames(b, pc, atReturn) : List.of();
                if (b.isNMethod() && !code.holds(b, pc)) {
                    // freed while its names were read: they, and what was read of it, may be of what came after
                    code.forget(b.compileId());
                    compiledRead.clear();
                    if (sampled) {
                        return List.of(FREED);
                    }
                } else if (b.isNMethod()) {
                    rememberCompiled(b.compileId());
                }
                if (!java.isEmpty()) {
                    return java;
                }
                String name = code.isCallStubReturn(pc) ? "call_stub" : b.isNMethod() ? b.name() : stubName(pc, b);
                return List.of(new JfrFrame(JVM_CODE, name, "", -1, -1, FrameTypes.NATIVE));
            }
            return List.of(new JfrFrame(JVM_CODE, "0x" + Long.toHexString(pc), "", -1, -1, FrameTypes.NATIVE));
        }
        Optional<NativeSymbols.Location> loc = natives.locate(pc);
        if (loc.isEmpty()) {
            return List.of(new JfrFrame(UNKNOWN_MODULE, "0x" + Long.toHexString(pc), "", -1, -1, FrameTypes.NATIVE));
        }
        NativeSymbols.Location l = loc.get();
        String name = l.symbol() != null ? l.symbol() : "0x" + Long.toHexString(l.offset());
        return List.of(new JfrFrame(l.module(), name, "", -1, -1, FrameTypes.NATIVE));
    }

    /** A stub by its own name (sha256_implCompressMB) where its buffer's name (StubRoutines (compilerstubs)) is all the code cache knows. */
    private String stubName(long pc, CodeCache.Blob b) {
        if (stubs == null) {
            stubs = StubNames.load(code);
        }
        return stubs.flatMap(n -> n.at(pc, b.codeBegin())).orElse(b.name());
    }

    /**
     * The methods of an nmethod at pc, innermost first. Its Method*s are read anew, not taken from
     * the cache: they live as long as the nmethod does (which resolve checks once they are read),
     * but a cached name of the same Method* may be of a class unloaded since, whose metadata's
     * space another class took (a class defined again and again is laid out alike each time).
     */
    private List<JfrFrame> jitFrames(CodeCache.Blob nm, long pc, boolean atReturn) {
        List<CodeCache.Scope> scopes = atReturn ? code.scopesAtReturn(nm, pc) : code.scopesAt(nm, pc);
        compiledRead.clear();
        List<JfrFrame> list = new ArrayList<>(scopes.size());
        for (int i = 0; i < scopes.size(); i++) {
            CodeCache.Scope s = scopes.get(i);
            JavaMethod jm = compiledMethod(s.method(), s.method(), nm.compileId());
            if (jm != null) {
                list.add(jitFrame(jm, s.bci(), i == scopes.size() - 1));
            }
        }
        if (list.isEmpty()) {
            // no debug information at this pc (a native method's wrapper; a call that records none, such
            // as a leaf call into a stub): the nmethod's own method, as HotSpot names such a frame
            JavaMethod jm = compiledMethod(nm.method(), OWN_METHOD, nm.compileId());
            if (jm != null) {
                list.add(new JfrFrame(jm.className(), jm.name(), jm.descriptor(), -1, -1, FrameTypes.JIT_COMPILED));
            }
        }
        return List.copyOf(list);
    }

    /** A method of a compilation: as read before for it (another pc of the same nmethod), else read anew; null if unreadable. */
    private JavaMethod compiledMethod(long method, long key, int compileId) {
        JavaMethod jm = compiledMethods.get(key, compileId, null);
        if (jm == null) {
            jm = methods.reread(method).orElse(null);
            if (jm != null) {
                compiledRead.add(new MethodRead(key, jm));
            }
        }
        return jm;
    }

    private static JfrFrame jitFrame(JavaMethod jm, int bci, boolean outermost) {
        return new JfrFrame(jm.className(), jm.name(), jm.descriptor(), bci >= 0 ? jm.line(bci) : -1, bci,
                outermost ? FrameTypes.JIT_COMPILED : FrameTypes.INLINED);
    }

    /** Keeps the methods jitFrames read of a compilation, now that its nmethod is known to have stayed while they were read. */
    private void rememberCompiled(int compileId) {
        for (MethodRead read : compiledRead) {
            compiledMethods.put(read.method(), compileId, null, read.name());
        }
        compiledRead.clear();
    }

    /**
     * The frames at pc of a compilation whose nmethod was freed (or replaced) since the sample: by
     * what was read of it while it lived, its debug information and the names of its methods; else
     * {@link #FREED_CODE}. Compilations are told apart by compile id, so what was read is theirs.
     */
    private List<JfrFrame> freedFrames(long pc, boolean atReturn, int compileId) {
        List<CodeCache.Scope> scopes = code.scopesOfFreed(compileId, pc, atReturn);
        if (scopes == null) {
            return List.of(FREED);
        }
        List<JfrFrame> list = new ArrayList<>(Math.max(1, scopes.size()));
        for (int i = 0; i < scopes.size(); i++) {
            JavaMethod jm = compiledMethods.get(scopes.get(i).method(), compileId, null);
            if (jm == null) {
                return List.of(FREED);
            }
            list.add(jitFrame(jm, scopes.get(i).bci(), i == scopes.size() - 1));
        }
        if (list.isEmpty()) {
            JavaMethod own = compiledMethods.get(OWN_METHOD, compileId, null);
            if (own == null) {
                return List.of(FREED);
            }
            list.add(new JfrFrame(own.className(), own.name(), own.descriptor(), -1, -1, FrameTypes.JIT_COMPILED));
        }
        return List.copyOf(list);
    }

    /** Frees what naming kernel frames holds (its loaded program); later kernel frames stay unresolved. */
    public synchronized void close() {
        if (kernel != null) {
            kernel.close();
        }
    }

    public synchronized Stats stats() {
        return new Stats(stackCount, stacksLost, stacksResumed, stacksIncomplete, mapLookups, frames, javaFrames, interpretedFrames, inlinedFrames,
                jitFrames, nativeFrames, kernelFrames, unresolvedFrames, nanos, kernelLoadNanos + natives.loadNanos());
    }
}
