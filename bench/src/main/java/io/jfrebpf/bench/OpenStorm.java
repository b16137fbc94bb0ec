package io.jfrebpf.bench;

import java.io.FileInputStream;
import java.io.IOException;

/**
 * A million traced events for {@link LightBench}: opens /dev/null that many times (each an
 * ebpf.FileOpen), then returns: how long the JVM then takes to exit is the cost of finishing a
 * recording that big. Usage: {@code OpenStorm opens}.
 */
public final class OpenStorm {
    private OpenStorm() {
    }

    public static void main(String[] args) throws IOException {
        System.out.println("main " + System.currentTimeMillis());
        int opens = Integer.parseInt(args[0]);
        long start = System.nanoTime();
        for (int i = 0; i < opens; i++) {
            try (FileInputStream in = new FileInputStream("/dev/null")) {
                in.getFD();
            }
        }
        System.out.printf("done %d opens in %d ms%n", opens, (System.nanoTime() - start) / 1_000_000);
        System.out.println("end " + System.currentTimeMillis());
    }
}
