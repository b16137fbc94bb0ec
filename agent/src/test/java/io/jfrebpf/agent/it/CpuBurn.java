package io.jfrebpf.agent.it;

import java.util.ArrayList;
import java.util.List;

/** Burns CPU on {@code threads} threads named "burner-N" for {@code seconds}, once "go" is printed. */
final class CpuBurn {
    private CpuBurn() {
    }

    static volatile long sink;

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        long end = System.nanoTime() + (long) (Double.parseDouble(args[1]) * 1e9);
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> burn(end), "burner-" + i);
            t.start();
            all.add(t);
        }
        System.out.println("go");
        for (Thread t : all) {
            t.join();
        }
        System.out.println("burned");
    }

    static void burn(long end) {
        long x = 1;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 100_000; i++) {
                x = x * 6364136223846793005L + 1442695040888963407L;
            }
        }
        sink = x;
    }
}
