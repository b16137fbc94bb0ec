package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.KernelIds;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
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
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile int tid;

    private BackgroundWork() {
        executor = new ScheduledThreadPoolExecutor(1, new Threads());
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
            executor.schedule(new Task(task), delayMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            waiting.decrementAndGet();
            return false;
        }
    }

    /** Waits (at most {@code millis}) for the tasks queued so far without delay to run. */
    public void drain(long millis) {
        try {
            executor.submit(new Task(null)).get(millis, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            Log.debug("background work not drained in %d ms: %s", millis, e);
        }
    }

    /*
     * Classes, not lambdas: each lambda costs the JVM a spun class and method-handle work, and
     * this one starts in every JVM (docs/performance.md).
     */

    /** Makes the one thread, which learns its tid before it takes any task. */
    private final class Threads implements ThreadFactory {
        @Override
        public Thread newThread(Runnable work) {
            Thread t = new Thread(new Starting(work), "jfr-ebpf-background");
            t.setDaemon(true);
            return t;
        }
    }

    private final class Starting implements Runnable {
        private final Runnable work;

        Starting(Runnable work) {
            this.work = work;
        }

        @Override
        public void run() {
            tid = KernelIds.hostTid();
            started.countDown();
            work.run();
        }
    }

    /** A queued task (null: nothing, a mark for {@link #drain}), counted out of the waiting ones as it starts. */
    private final class Task implements Runnable {
        private final Runnable task;

        Task(Runnable task) {
            this.task = task;
        }

        @Override
        public void run() {
            if (task == null) {
                return;
            }
            waiting.decrementAndGet();
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                Log.debug("background task failed: %s", e);
            }
        }
    }

    /** Lets the queued tasks run on the (daemon) thread, delayed ones (retries) dropped; takes no more; does not wait. */
    @Override
    public void close() {
        executor.shutdown();
    }
}
