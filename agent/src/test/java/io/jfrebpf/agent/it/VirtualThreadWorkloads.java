package io.jfrebpf.agent.it;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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
}
