package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.KernelIds;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The agent's thread for work that waits: detaching a uprobe waits for an RCU grace period
 * (~130 ms a probe measured here), merging a slice copies its chunks, an upload waits for the
 * network. On the poller thread any of them would hold every ring buffer that long. Its tid is
 * known before the probes load, so that no probe traces it ({@code agent_aux_tid}): its file
 * writes and connections are the agent's, not the application's. At most {@link #CAPACITY}
 * tasks wait (the caller counts refusals); a task's failure is logged, never passed on.
 */
public final class BackgroundWork implements AutoCloseable {
    static final int CAPACITY = 4096;

    private final ScheduledThreadPoolExecutor executor;
    private final AtomicInteger waiting = new AtomicInteger();
    private volatile int tid;

    private BackgroundWork() {
        CountDownLatch started = new CountDownLatch(1);
        executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(() -> {
                tid = KernelIds.hostTid();
                started.countDown();
                r.run();
            }, "jfr-ebpf-background");
            t.setDaemon(true);
            return t;
        });
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.prestartCoreThread();
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

    /** Queues a task; false when too many are waiting or the work is closing. */
    public boolean submit(Runnable task) {
        return schedule(task, 0);
    }

    /** Runs a task after a delay (retries); false when too many are waiting or the work is closing. */
    public boolean schedule(Runnable task, long delayMillis) {
        if (waiting.incrementAndGet() > CAPACITY || executor.isShutdown()) {
            waiting.decrementAndGet();
            return false;
        }
        try {
            executor.schedule(() -> {
                waiting.decrementAndGet();
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    Log.debug("background task failed: %s", e);
                }
            }, delayMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            waiting.decrementAndGet();
            return false;
        }
    }

    /** Waits (at most {@code millis}) for the tasks queued so far without delay to run. */
    public void drain(long millis) {
        try {
            executor.submit(() -> { }).get(millis, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            Log.debug("background work not drained in %d ms: %s", millis, e);
        }
    }

    /** Lets the queued tasks run on the (daemon) thread, delayed ones (retries) dropped; takes no more; does not wait. */
    @Override
    public void close() {
        executor.shutdown();
    }
}
