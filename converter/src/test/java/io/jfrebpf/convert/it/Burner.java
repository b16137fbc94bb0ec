package io.jfrebpf.convert.it;

/**
 * A workload with a known CPU profile, for the golden tests: each iteration burns {@code hot}
 * units in {@link #hot} and {@code cold} units in {@link #cold} (a unit is ~1 ms of arithmetic).
 * Args: hot cold iterations [depth]; with a depth, {@link #cold} runs {@code depth} calls of
 * {@link #deeper} further down than {@link #hot}: a narrow tower of a deep stack beside wide,
 * shallow frames, as a framework's request handling beside a busy loop.
 */
public final class Burner {
    static volatile long sink;

    public static void main(String[] args) {
        int hot = Integer.parseInt(args[0]);
        int cold = Integer.parseInt(args[1]);
        int iterations = Integer.parseInt(args[2]);
        int depth = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        for (int i = 0; i < iterations; i++) {
            hot(hot);
            deeper(depth, cold);
        }
        System.out.println("done " + sink);
    }

    // no lambda on the way: a hidden class's name differs from run to run, and the diff and the
    // gate compare frames of two runs by name
    static void deeper(int depth, int cold) {
        if (depth <= 0) {
            cold(cold);
        } else {
            deeper(depth - 1, cold);
        }
    }

    // the same loop in each method, not a shared helper: the innermost Java frame of a sample
    // is then the method that burns it

    static void hot(int units) {
        long h = units;
        for (int i = 0; i < units * UNIT; i++) {
            h = h * 6364136223846793005L + 1442695040888963407L;
            h ^= h >>> 29;
        }
        sink += h;
    }

    static void cold(int units) {
        long h = units + 7;
        for (int i = 0; i < units * UNIT; i++) {
            h = h * 6364136223846793005L + 1442695040888963407L;
            h ^= h >>> 29;
        }
        sink += h;
    }

    static final int UNIT = 400_000;
}
