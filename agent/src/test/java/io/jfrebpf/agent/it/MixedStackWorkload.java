package io.jfrebpf.agent.it;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * One thread per kind of frame a stack walk meets, each with a known call chain from its entry
 * method inward (NoFramePointersIT checks every stack against it), for {@link #runNs}:
 * <ul>
 * <li>"compiled": compiledEntry -> hotLoop -> hotMiddle (inlined) -> hotLeaf (not inlined): JIT code;
 * <li>"interpreted": interpretedEntry -> interpretedLoop (excluded from compilation by the test);
 * <li>"jni": jniEntry -> jniRead -> Files.readAllBytes: JDK code, JNI into libc's open;
 * <li>"ffm": ffmEntry -> ffmOpen: an FFM downcall to libc's open;
 * <li>"sleeper": sleeperEntry -> sleepLoop -> Thread.sleep: off CPU in libc;
 * <li>"intrinsics": intrinsicsEntry -> digest / mismatch / modPow: the work in HotSpot's stubs;
 * <li>"deopt": deoptEntry -> deoptLoop -> Shape.area, with new shapes loaded as it runs: compiled
 *     frames deoptimized under the walk;
 * <li>"churn": classes defined, compiled and unloaded (code cache churn, freed blobs);
 * <li>virtual threads "vt-N": vtEntry -> vtDeep (x VT_DEPTH) -> vtLoop -> vtLeaf, sleeping between
 *     bursts, so that they remount with deep stacks (thawed lazily) on the carriers.
 * </ul>
 * Prints the lines of the call sites an inlined or compiled frame must be resolved at
 * ("call hotLoop->hotMiddle at line N"). Arguments: the file to open, and optionally how many
 * milliseconds each thread runs (default 3,000).
 */
public final class MixedStackWorkload {
    static long runNs = 3_000_000_000L;
    static final int VT_DEPTH = 40;
    static final int VIRTUAL_THREADS = 4;
    static volatile long sink;
    static volatile boolean printLines = true;

    private MixedStackWorkload() {
    }

    static long hotLeaf(long x) {
        long s = x;
        for (int i = 0; i < 100; i++) {
            s = s * 31 + i;
        }
        if (printLines) {
            printLines = false;
            StackTraceElement[] t = new Throwable().getStackTrace();
            System.out.println("call hotMiddle->hotLeaf at line " + t[1].getLineNumber());
            System.out.println("call hotLoop->hotMiddle at line " + t[2].getLineNumber());
        }
        return s;
    }

    static long hotMiddle(long x) {
        return hotLeaf(x) + 1;
    }

    static long hotLoop(int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += hotMiddle(i);
        }
        return s;
    }

    static void compiledEntry() {
        long end = System.nanoTime() + runNs;
        while (System.nanoTime() < end) {
            sink += hotLoop(2000);
        }
    }

    static long interpretedLoop(int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += i % 7;
        }
        return s;
    }

    static void interpretedEntry() {
        long end = System.nanoTime() + runNs;
        while (System.nanoTime() < end) {
            sink += interpretedLoop(10_000);
        }
    }

    static long jniRead(Path file) throws Exception {
        return Files.readAllBytes(file).length;
    }

    static void jniEntry(Path file) throws Exception {
        long end = System.nanoTime() + runNs;
        while (System.nanoTime() < end) {
            sink += jniRead(file);
        }
    }

    static int ffmOpen(MethodHandle open, MethodHandle close, MemorySegment path) throws Throwable {
        int fd = (int) open.invokeExact(path, 0);
        return fd < 0 ? fd : (int) close.invokeExact(fd);
    }

    static void ffmEntry(Path file) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle open = linker.downcallHandle(linker.defaultLookup().findOrThrow("open"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle close = linker.downcallHandle(linker.defaultLookup().findOrThrow("close"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment path = arena.allocateFrom(file.toString());
            long end = System.nanoTime() + runNs;
            while (System.nanoTime() < end) {
                sink += ffmOpen(open, close, path);
            }
        }
    }

    static void sleepLoop() throws InterruptedException {
        long end = System.nanoTime() + runNs;
        while (System.nanoTime() < end) {
            Thread.sleep(5);
        }
    }

    static void sleeperEntry() throws InterruptedException {
        sleepLoop();
    }

    static long digest(MessageDigest md, byte[] buf) {
        md.update(buf);
        return md.digest()[0];
    }

    static long mismatch(byte[] a, byte[] b) {
        return Arrays.mismatch(a, b);
    }

    static long modPow(BigInteger b, BigInteger e, BigInteger m) {
        return b.modPow(e, m).bitLength();
    }

    static void intrinsicsEntry() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 18];
        byte[] a = new byte[1 << 22];
        byte[] b = a.clone();
        b[b.length - 1] = 1;
        Random r = new Random(1);
        BigInteger m = BigInteger.probablePrime(512, r);
        BigInteger base = new BigInteger(500, r);
        BigInteger exp = new BigInteger(500, r);
        long end = System.nanoTime() + runNs;
        while (System.nanoTime() < end) {
            sink += digest(md, buf);
            sink += mismatch(a, b);
            sink += modPow(base, exp, m);
        }
    }

    interface Shape {
        long area(long x);
    }

    static final class Square implements Shape {
        @Override
        public long area(long x) {
            return x * x;
        }
    }

    static long deoptLoop(Shape[] shapes, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += shapes[i % shapes.length].area(i);
        }
        return s;
    }

    /** New Shape classes as it runs: call sites compiled for fewer shapes are deoptimized. */
    static void deoptEntry() throws Throwable {
        byte[] bytes;
        try (InputStream in = MixedStackWorkload.class.getResourceAsStream("MixedStackWorkload$Square.class")) {
            bytes = in.readAllBytes();
        }
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        List<Shape> shapes = new ArrayList<>(List.of(new Square()));
        long end = System.nanoTime() + runNs;
        int round = 0;
        while (System.nanoTime() < end) {
            sink += deoptLoop(shapes.toArray(Shape[]::new), 50_000);
            if (++round % 20 == 0 && shapes.size() < 64) {
                Class<?> c = lookup.defineHiddenClass(bytes, true).lookupClass();
                shapes.add((Shape) c.getDeclaredConstructor().newInstance());
            }
        }
    }

    static void churnEntry() throws Throwable {
        byte[] bytes;
        try (InputStream in = MixedStackWorkload.class.getResourceAsStream("ChurnedSpinner.class")) {
            bytes = in.readAllBytes();
        }
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        long end = System.nanoTime() + runNs;
        long classes = 0;
        while (System.nanoTime() < end) {
            MethodHandles.Lookup hidden = lookup.defineHiddenClass(bytes, true);
            MethodHandle spin = hidden.findStatic(hidden.lookupClass(), "spin", MethodType.methodType(long.class, long.class));
            sink += (long) spin.invokeExact(classes);
            if (++classes % 200 == 0) {
                System.gc();
            }
        }
    }

    static long vtLeaf(long x) {
        long s = x;
        for (int i = 0; i < 2000; i++) {
            s = s * 17 + i;
        }
        return s;
    }

    static void vtLoop() throws InterruptedException {
        long end = System.nanoTime() + runNs;
        while (System.nanoTime() < end) {
            long burst = System.nanoTime() + 3_000_000;
            while (System.nanoTime() < burst) {
                sink += vtLeaf(sink);
            }
            Thread.sleep(1);
        }
    }

    static void vtDeep(int depth) throws InterruptedException {
        if (depth > 0) {
            vtDeep(depth - 1);
            sink++;
            return;
        }
        vtLoop();
    }

    static void vtEntry() throws InterruptedException {
        vtDeep(VT_DEPTH);
    }

    interface Body {
        void run() throws Throwable;
    }

    static Thread thread(String name, Body body) {
        return new Thread(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                throw new IllegalStateException(name, t);
            }
        }, name);
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        if (args.length > 1) {
            runNs = Long.parseLong(args[1]) * 1_000_000L;
        }
        List<Thread> threads = new ArrayList<>(List.of(
                thread("compiled", MixedStackWorkload::compiledEntry),
                thread("interpreted", MixedStackWorkload::interpretedEntry),
                thread("jni", () -> jniEntry(file)),
                thread("ffm", () -> ffmEntry(file)),
                thread("sleeper", MixedStackWorkload::sleeperEntry),
                thread("intrinsics", MixedStackWorkload::intrinsicsEntry),
                thread("deopt", MixedStackWorkload::deoptEntry),
                thread("churn", MixedStackWorkload::churnEntry)));
        for (int i = 0; i < VIRTUAL_THREADS; i++) {
            threads.add(Thread.ofVirtual().name("vt-" + i).unstarted(() -> {
                try {
                    vtEntry();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        System.out.println("done");
    }
}
