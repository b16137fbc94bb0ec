package io.jfrebpf.agent.stack;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.jvm.CodeCache;
import io.jfrebpf.agent.jvm.FrameAnchors;
import io.jfrebpf.agent.jvm.HotSpotFrames;
import io.jfrebpf.agent.jvm.JavaMethods;
import io.jfrebpf.agent.jvm.StackChunks;
import io.jfrebpf.agent.jvm.StubNames;
import io.jfrebpf.agent.jvm.VmStructs;
import java.lang.management.ManagementFactory;
import java.util.Optional;

/**
 * Stacks for one recording: the shared stack maps the probes fill, the symbolizer that reads
 * them (HotSpot's code cache and methods through VMStructs), and what the kernel's walk needs to
 * step HotSpot's frames without frame pointers ({@link HotSpotFrames}).
 */
public final class JvmStacks implements AutoCloseable {
    private final StackMaps maps;
    private final Symbolizer symbolizer;

    private JvmStacks(StackMaps maps, Symbolizer symbolizer) {
        this.maps = maps;
        this.symbolizer = symbolizer;
    }

    /** Reads what the kernel's walk and symbolization need from this JVM. */
    public static JvmStacks start() {
        // plain tests, not Optional's lambdas: each lambda costs a spun class at start-up
        VmStructs vm = VmStructs.load().orElse(null);
        CodeCache code = vm == null ? null : CodeCache.load(vm).orElse(null);
        JavaMethods methods = vm == null ? null : JavaMethods.load(vm).orElse(null);
        FrameAnchors anchors = vm == null ? null : FrameAnchors.find(vm).orElse(null);
        HotSpotFrames frames = code == null ? null : HotSpotFrames.find(vm, code).orElse(null);
        if (frames == null) {
            warnWithoutFramePointers();
        }
        // the kernel's walk needs the stubs' entries before load; the symbolizer names stub frames by them
        Optional<StubNames> stubs = frames == null ? Optional.empty() : StubNames.load(code);
        // a virtual thread's frames in its stack chunks are walked through its continuation's return barrier
        StackChunks chunks = frames == null || anchors == null ? StackChunks.unknown("no code blobs or frame anchors read")
                : StackChunks.find(vm);
        StackMaps maps = new StackMaps(code, anchors, frames, chunks, SignalReturn.find().orElse(0),
                stubs.isPresent() ? stubs.get().entries() : new long[0]);
        Symbolizer symbolizer = frames == null ? new Symbolizer(maps, code, methods) : new Symbolizer(maps, code, methods, stubs);
        return new JvmStacks(maps, symbolizer);
    }

    /** Printed as it stands (no arguments, so no format escapes): stacks are printed innermost first. */
    static final String WITHOUT_FRAME_POINTERS = "this JVM runs without -XX:+PreserveFramePointer and its code blobs are not"
            + " readable: stacks end at the first JIT-compiled Java frame (its callers are lost). Start the JVM with"
            + " -XX:+PreserveFramePointer for whole stacks; it costs JIT code one register, 1.6-2.7% CPU measured";

    /** Only when HotSpot's code blobs are not readable does a walk depend on JIT code's frame pointers. */
    private static void warnWithoutFramePointers() {
        if (!preservesFramePointers()) {
            Log.warn(WITHOUT_FRAME_POINTERS);
        }
    }

    /** Whether JIT code keeps frame pointers (the option cannot change at run time). */
    public static boolean preservesFramePointers() {
        try {
            var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return Boolean.parseBoolean(bean.getVMOption("PreserveFramePointer").getValue());
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    public StackMaps maps() {
        return maps;
    }

    public Symbolizer symbolizer() {
        return symbolizer;
    }

    /** Logs what symbolization did and frees the maps. */
    @Override
    public void close() {
        Symbolizer.Stats s = symbolizer.stats();
        if (s.stacks() > 0) {
            Log.info(
                    "stacks: %d (%d lost; %d distinct ones resumed at their last Java frame, %d ended at a frame they could not"
                            + " unwind), %d frames: %.1f%% Java (%d interpreted, %d JIT, %d inlined), %d native,"
                            + " %d kernel, %d unresolved; symbolization %.1f ms, of which %.1f ms loading symbol tables",
                    s.stacks(), s.stacksLost(), s.stacksResumed(), s.stacksIncomplete(), s.frames(), s.frames() == 0 ? 0.0 : 100.0 * s.javaFrames() / s.frames(),
                    s.interpretedFrames(), s.jitFrames(), s.inlinedFrames(), s.nativeFrames(), s.kernelFrames(),
                    s.unresolvedFrames(), s.nanos() / 1e6, s.loadNanos() / 1e6);
        }
        symbolizer.close();
        maps.close();
    }
}
