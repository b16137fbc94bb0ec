package io.jfrebpf.agent.it;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.ReentrantLock;

/** Programs on virtual threads that the integration tests run in child JVMs under the agent. */
final class VirtualThreadWorkloads {
    private VirtualThreadWorkloads() {
    }

    /**
     * {@code n} virtual threads, one per task, named vt-0..vt-(n-1), each opening its own file v-i
     * of the directory once; prints "vt-i id=<Java id>" for each. The executor is
     * Executors.newVirtualThreadPerTaskExecutor's with a naming factory: a thread named by its task
     * (setName) after it started can be named "" by JFR's own events, which the agent's follow.
     */
    /**
     * No virtual thread at all: main returns while a platform thread "late" sleeps on, so that
     * HotSpot's DestroyJavaVM takes main's OS thread and waits there (an off-CPU stretch of
     * about a second on the tid that was main's, under another Java id).
     */
    static final class NoneWhileMainEnds {
        public static void main(String[] args) throws Exception {
            Thread late = new Thread(new Runnable() {
                @Override
                public void run() {
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }, "late");
            late.start();
        }
    }

    static final class Opens {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            int n = Integer.parseInt(args[1]);
            List<Future<String>> done = new ArrayList<>();
            try (ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("vt-", 0).factory())) {
                for (int i = 0; i < n; i++) {
                    int index = i;
                    done.add(executor.submit(() -> {
                        Thread self = Thread.currentThread();
                        if (!self.isVirtual()) {
                            throw new IllegalStateException("not a virtual thread: " + self);
                        }
                        try (InputStream in = new FileInputStream(dir.resolve("v-" + index).toFile())) {
                            in.read();
                        }
                        if (!self.getName().equals("vt-" + index)) {
                            // the factory numbers threads as they are created, in submission order
                            throw new IllegalStateException(self.getName() + " runs task " + index);
                        }
                        return self.getName() + " id=" + self.threadId();
                    }));
                }
            }
            StringBuilder out = new StringBuilder();
            for (Future<String> f : done) {
                out.append(f.get()).append('\n');
            }
            System.out.print(out);
        }
    }

    /**
     * Virtual threads that wait unmounted, each in a method of its own, printing "name id=<Java id>":
     * sleep-0..n-1 sleep {@value #SLEEPS} times {@value #SLEEP_MS} ms (sleepInNamedMethod); lock-i
     * wait for a ReentrantLock the main thread holds {@value #HOLD_MS} ms (waitForLock); queue-i
     * take from a queue filled after {@value #HOLD_MS} ms (takeFromQueue); read-i read a loopback
     * socket whose server writes after {@value #HOLD_MS} ms (readFromSocket). Then pinned-0 sleeps
     * {@value #PINNED_MS} ms inside an FFM upcall from libc's qsort (pinnedComparator, called from
     * pinnedSort): a native frame on its stack, so it cannot unmount (pinned).
     */
    static final class Waits {
        static final int SLEEPS = 3;
        static final long SLEEP_MS = 20;
        static final long HOLD_MS = 60;
        static final long PINNED_MS = 30;

        static void sleepInNamedMethod() throws InterruptedException {
            Thread.sleep(SLEEP_MS);
        }

        static void waitForLock(ReentrantLock lock) {
            lock.lock();
            lock.unlock();
        }

        static String takeFromQueue(BlockingQueue<String> queue) throws InterruptedException {
            return queue.take();
        }

        static int readFromSocket(InputStream in) throws IOException {
            return in.read();
        }

        static int pinnedComparator(MemorySegment a, MemorySegment b) {
            try {
                Thread.sleep(PINNED_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }

        static void pinnedSort() throws Throwable {
            Linker linker = Linker.nativeLinker();
            MethodHandle qsort = linker.downcallHandle(linker.defaultLookup().find("qsort").orElseThrow(),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
            MethodHandle compare = MethodHandles.lookup().findStatic(Waits.class, "pinnedComparator",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment comparator = linker.upcallStub(compare, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT), ValueLayout.ADDRESS.withTargetLayout(ValueLayout.JAVA_INT)), arena);
                MemorySegment two = arena.allocateFrom(ValueLayout.JAVA_INT, 2, 1);
                qsort.invokeExact(two, 2L, 4L, comparator);
            }
        }

        interface Task {
            void run() throws Throwable;
        }

        public static void main(String[] args) throws Exception {
            int n = Integer.parseInt(args[0]);
            List<Future<String>> done = new ArrayList<>();
            ReentrantLock lock = new ReentrantLock();
            BlockingQueue<String> queue = new LinkedBlockingQueue<>();
            try (ServerSocket server = new ServerSocket(0, n, InetAddress.getLoopbackAddress())) {
                for (int i = 0; i < n; i++) {
                    done.add(start("sleep-" + i, () -> {
                        for (int k = 0; k < SLEEPS; k++) {
                            sleepInNamedMethod();
                        }
                    }));
                }
                lock.lock();
                for (int i = 0; i < n; i++) {
                    done.add(start("lock-" + i, () -> waitForLock(lock)));
                    done.add(start("queue-" + i, () -> takeFromQueue(queue)));
                    done.add(start("read-" + i, () -> {
                        try (Socket s = new Socket(server.getInetAddress(), server.getLocalPort())) {
                            if (readFromSocket(s.getInputStream()) != 1) {
                                throw new IllegalStateException("read");
                            }
                        }
                    }));
                }
                List<Socket> accepted = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    accepted.add(server.accept());
                }
                Thread.sleep(HOLD_MS);
                lock.unlock();
                for (int i = 0; i < n; i++) {
                    queue.add("x");
                }
                for (Socket s : accepted) {
                    OutputStream out = s.getOutputStream();
                    out.write(1);
                    out.flush();
                }
                for (Future<String> f : done) {
                    f.get();
                }
                for (Socket s : accepted) {
                    s.close();
                }
                done.add(start("pinned-0", Waits::pinnedSort));
            }
            StringBuilder out = new StringBuilder();
            for (Future<String> f : done) {
                out.append(f.get()).append('\n');
            }
            System.out.print(out);
        }

        /** A virtual thread named at its creation (a name set by its task may be "" in JFR's events). */
        private static Future<String> start(String name, Task task) {
            FutureTask<String> f = new FutureTask<>(() -> {
                try {
                    task.run();
                } catch (Throwable t) {
                    throw new IllegalStateException(name, t);
                }
                return name + " id=" + Thread.currentThread().threadId();
            });
            Thread.ofVirtual().name(name).start(f);
            return f;
        }
    }

    /**
     * {@code n} virtual threads deep-0..deep-(n-1) (printing "deep-i id=<Java id>"), each entering
     * deepEntry, then descend {@value #DEPTH} times, then {@code rounds} times: a sleep of 1 ms
     * (it unmounts; mounted again, its continuation is thawed lazily, the frames below the top
     * ones staying in its stack chunk), CPU in burnInNamedMethod, an open of file d-i of the
     * directory in openInNamedMethod. Every stack taken in those two methods has exactly
     * {@value #DEPTH} descend frames between them and deepEntry. The first half of the threads
     * builds its stack in the interpreter; then descend is made hot (JIT-compiled, recursion
     * inlined) before the second half starts, so that the chunks hold both kinds of frames.
     */
    static final class DeepParks {
        static final int DEPTH = 40;
        static final long BURN_NS = 2_000_000;
        /** Calls of the whole recursion that make descend hot: 400,000 invocations. */
        static final int WARM_UP = 10_000;
        static volatile long sink;

        static void burnInNamedMethod() {
            long end = System.nanoTime() + BURN_NS;
            long x = sink;
            while (System.nanoTime() < end) {
                for (int i = 0; i < 1000; i++) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                }
            }
            sink = x;
        }

        static void openInNamedMethod(Path file) throws IOException {
            try (InputStream in = new FileInputStream(file.toFile())) {
                sink += in.read();
            }
        }

        static void descend(int depth, Path file, int rounds) throws Exception {
            if (depth > 1) {
                descend(depth - 1, file, rounds);
                return;
            }
            for (int r = 0; r < rounds; r++) {
                Thread.sleep(1);
                burnInNamedMethod();
                openInNamedMethod(file);
            }
        }

        static void deepEntry(Path file, int rounds) throws Exception {
            descend(DEPTH, file, rounds);
        }

        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            int n = Integer.parseInt(args[1]);
            int rounds = Integer.parseInt(args[2]);
            List<FutureTask<String>> done = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (i == n / 2) {
                    for (int w = 0; w < WARM_UP; w++) {
                        descend(DEPTH, null, 0);
                    }
                }
                String name = "deep-" + i;
                Path file = dir.resolve("d-" + i);
                FutureTask<String> f = new FutureTask<>(() -> {
                    deepEntry(file, rounds);
                    return name + " id=" + Thread.currentThread().threadId();
                });
                Thread.ofVirtual().name(name).start(f);
                done.add(f);
            }
            StringBuilder out = new StringBuilder();
            for (FutureTask<String> f : done) {
                out.append(f.get()).append('\n');
            }
            System.out.print(out);
        }
    }
}
