package io.jfrebpf.agent.it;

import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.JMException;
import javax.management.ObjectName;

/** Programs the integration tests run in child JVMs under the agent. Each prints what the test checks against. */
final class Workloads {
    private Workloads() {
    }

    static final Linker LINKER = Linker.nativeLinker();

    static int gettid() {
        try {
            MethodHandle h = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("gettid"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT));
            return (int) h.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void usleep(int micros) {
        try {
            MethodHandle h = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("usleep"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            int rc = (int) h.invokeExact(micros);
            if (rc != 0) {
                throw new IllegalStateException("usleep returned " + rc);
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Whether the JIT's code cache holds compiled code in use for a method, named as HotSpot's
     * code list names it ({@code pkg.Class.method(descriptor)}): {@code jcmd Compiler.codelist}
     * through the DiagnosticCommand MBean, whose lines read "id level state name [...]" (state 0:
     * in use).
     */
    static boolean compiled(String method) {
        try {
            String list = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerCodelist", new Object[] {null},
                    new String[] {String[].class.getName()});
            return list.lines().map(l -> l.split(" ")).anyMatch(f -> f.length > 3 && f[2].equals("0") && f[3].equals(method));
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
    }

    static void onThread(String name, ThrowingRunnable body) throws InterruptedException {
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, name);
        t.start();
        t.join();
        if (failure[0] != null) {
            throw new IllegalStateException(failure[0]);
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Opens files f-0..f-(n-1) of a directory, then one missing file, then a relative path, on thread "opener". */
    static final class OpenFiles {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            int n = Integer.parseInt(args[1]);
            onThread("opener", () -> {
                System.out.println("opener tid=" + gettid());
                for (int i = 0; i < n; i++) {
                    try (InputStream in = new FileInputStream(dir.resolve("f-" + i).toFile())) {
                        in.read();
                    }
                }
                try (InputStream in = new FileInputStream(dir.resolve("missing").toFile())) {
                    throw new IllegalStateException("missing file exists");
                } catch (FileNotFoundException expected) {
                    System.out.println("missing: " + expected.getMessage());
                }
                try (InputStream in = Files.newInputStream(Path.of("relative.txt"))) {
                    in.read();
                }
            });
        }
    }

    /**
     * The main thread opens a file n times and returns at once: HotSpot's DestroyJavaVM then
     * takes the main thread's OS thread, before the agent has read the opens. Args: file n.
     */
    static final class OpensAtTheEndOfMain {
        public static void main(String[] args) throws Exception {
            System.out.println("main id=" + Thread.currentThread().threadId());
            for (int i = 0, n = Integer.parseInt(args[1]); i < n; i++) {
                Files.readAllBytes(Path.of(args[0]));
            }
        }
    }

    /** Threads short-0..short-(n-1), one after the other, each opening s-i of a directory and ending at once. */
    static final class ShortLivedThreads {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            int n = Integer.parseInt(args[1]);
            for (int i = 0; i < n; i++) {
                Path file = dir.resolve("s-" + i);
                onThread("short-" + i, () -> {
                    try (InputStream in = new FileInputStream(file.toFile())) {
                        in.read();
                    }
                });
            }
        }
    }

    /** A syscall storm: threads "storm-i" each calling getppid() through libc as fast as they can; prints the total. */
    static final class SyscallStorm {
        public static void main(String[] args) throws Exception {
            int threads = Integer.parseInt(args[0]);
            int calls = Integer.parseInt(args[1]);
            MethodHandle getppid = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("getppid"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT));
            Thread[] storm = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                storm[t] = new Thread(() -> {
                    try {
                        for (int i = 0; i < calls; i++) {
                            int ppid = (int) getppid.invokeExact();
                            if (ppid <= 0) {
                                throw new IllegalStateException("getppid " + ppid);
                            }
                        }
                    } catch (Throwable e) {
                        throw new IllegalStateException(e);
                    }
                }, "storm-" + t);
                storm[t].start();
            }
            for (Thread t : storm) {
                t.join();
            }
            System.out.println("calls=" + (long) threads * calls);
        }
    }

    /** Thread.sleep(200) and then usleep(200 ms) through libc, on thread "sleeper". */
    static final class Sleep {
        public static void main(String[] args) throws Exception {
            onThread("sleeper", () -> {
                System.out.println("sleeper tid=" + gettid());
                Thread.sleep(200);
                usleep(200_000);
            });
        }
    }

    /** Sleeps the milliseconds of its argument: an application that does nothing. */
    static final class Sleeper {
        public static void main(String[] args) throws Exception {
            Thread.sleep(Long.parseLong(args[0]));
        }
    }

    /** Prints "ready" and waits until the file named by the argument exists (60 s at most). */
    static final class WaitForFile {
        public static void main(String[] args) throws Exception {
            Path signal = Path.of(args[0]);
            System.out.println("ready pid=" + ProcessHandle.current().pid());
            System.out.flush();
            long end = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(signal) && System.nanoTime() < end) {
                Thread.sleep(50);
            }
        }
    }

    /** Runs for the given milliseconds, opening a file now and then; prints when done. */
    static final class Busy {
        public static void main(String[] args) throws Exception {
            long end = System.nanoTime() + Long.parseLong(args[0]) * 1_000_000L;
            Path file = Files.createTempFile("busy", ".txt");
            while (System.nanoTime() < end) {
                Files.readAllBytes(file);
                Thread.sleep(20);
            }
            Files.delete(file);
            System.out.println("busy done");
        }
    }

    /** Prints hello. */
    static final class Hello {
        public static void main(String[] args) throws IOException {
            System.out.println("hello from " + System.getProperty("java.version"));
        }
    }
}
