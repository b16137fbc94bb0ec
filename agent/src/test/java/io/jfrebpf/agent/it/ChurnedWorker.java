package io.jfrebpf.agent.it;

/**
 * The class JitChurnWorkload defines again and again as a hidden class, each time under a name of
 * its own (a top-level class: no InnerClasses to disagree on): called often enough to be compiled,
 * by C1 and then C2, and unloaded soon after, so that its compiled code is freed and the space
 * taken by the code of another class.
 */
final class ChurnedWorker {
    private ChurnedWorker() {
    }

    static long work(long x) {
        long s = x;
        for (int i = 0; i < 2000; i++) {
            s = s * 6364136223846793005L + i;
        }
        return s;
    }
}
