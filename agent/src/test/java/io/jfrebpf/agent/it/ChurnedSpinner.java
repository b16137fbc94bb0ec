package io.jfrebpf.agent.it;

/** The class ClassChurn defines again and again as a hidden class (a top-level class: no InnerClasses to disagree on). */
final class ChurnedSpinner {
    private ChurnedSpinner() {
    }

    static long spin(long n) {
        long x = n;
        long end = System.nanoTime() + 1_000_000;
        while (System.nanoTime() < end) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        return x;
    }
}
