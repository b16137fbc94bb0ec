package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.Tid;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The agent's thread for kernel work that waits: detaching a uprobe waits for an RCU grace
 * period (~130 ms a probe measured here), which on the poller thread would hold every ring
 * buffer that long. Its tid is known before the probes load, so that no probe traces it
 * ({@code agent_aux_tid}). Tasks beyond {@link #CAPACITY} waiting are refused (the caller
 * counts them); a task's failure is logged, never passed on.
 */
public final class BackgroundWork implements AutoCloseable {
    static final int CAPACITY = 4096;

    private final BlockingQueue<Runnable> tasks = new ArrayBlockingQueue<>(CAPACITY);
    private final Thread thread;
    private volatile int tid;
    private volatile boolean closing;

    private BackgroundWork() {
        CountDownLatch started = new CountDownLatch(1);
        thread = new Thread(() -> {
            tid = Tid.current();
            started.countDown();
            run();
        }, "jfr-ebpf-background");
        thread.setDaemon(true);
        thread.start();
        try {
            started.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static BackgroundWork start() {
        return new BackgroundWork();
    }

    /** The OS thread id, for the probes' .rodata (0 if the thread did not start). */
    public int tid() {
        return tid;
    }

    /** Queues a task; false when too many are waiting. */
    public boolean submit(Runnable task) {
        return tasks.offer(task);
    }

    private void run() {
        while (true) {
            Runnable task;
            try {
                task = closing ? tasks.poll() : tasks.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (task == null) {
                if (closing) {
                    return;
                }
                continue;
            }
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                Log.debug("background task failed: %s", e);
            }
        }
    }

    /** Lets the queued tasks finish on the (daemon) thread, and takes no more; does not wait. */
    @Override
    public void close() {
        closing = true;
    }
}
