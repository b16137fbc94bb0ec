package io.jfrebpf.agent.it;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Threads that block in named methods a known number of times, for {@link OffCpuResumeIT}:
 * "sleeper" sleeps in {@link #sleepingMethod} 20 × 30 ms, "waiter" waits on a condition in
 * {@link #waitingMethod} until "signaller" signals it, 20 times 30 ms apart. Each stretch is a
 * futex wait or a nanosleep, long enough to be sent at the default 1 ms threshold.
 */
public final class BlockingWorkload {
    static final int TIMES = 20;
    static final int MILLIS = 30;
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Condition SIGNAL = LOCK.newCondition();
    private static int signals;

    private BlockingWorkload() {
    }

    static void sleepingMethod() throws InterruptedException {
        for (int i = 0; i < TIMES; i++) {
            Thread.sleep(MILLIS);
        }
    }

    static void waitingMethod() throws InterruptedException {
        for (int seen = 0; seen < TIMES; seen++) {
            LOCK.lock();
            try {
                while (signals <= seen) {
                    SIGNAL.await();
                }
            } finally {
                LOCK.unlock();
            }
        }
    }

    /** Work that blocks, and stops when interrupted. */
    interface Blocking {
        void run() throws InterruptedException;
    }

    static Thread thread(String name, Blocking work) {
        return new Thread(() -> {
            try {
                work.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
    }

    static void signalling() throws InterruptedException {
        for (int i = 0; i < TIMES; i++) {
            Thread.sleep(MILLIS);
            LOCK.lock();
            try {
                signals++;
                SIGNAL.signal();
            } finally {
                LOCK.unlock();
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Thread sleeper = thread("sleeper", BlockingWorkload::sleepingMethod);
        Thread waiter = thread("waiter", BlockingWorkload::waitingMethod);
        Thread signaller = thread("signaller", BlockingWorkload::signalling);
        sleeper.start();
        waiter.start();
        signaller.start();
        sleeper.join();
        waiter.join();
        signaller.join();
        System.out.println("blocked " + TIMES + " times each");
    }
}
