package io.jfrebpf.bench;

/**
 * The idle JVM of {@link LightBench}: prints when {@code main} starts, sleeps, prints when it
 * returns. With {@code heap} it first collects and prints the heap still in use: what the JVM
 * (and an agent in it) keeps live. Usage: {@code IdleMain millis [heap]}.
 */
public final class IdleMain {
    private IdleMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.out.println("main " + System.currentTimeMillis());
        Thread.sleep(Long.parseLong(args[0]));
        if (args.length > 1 && args[1].equals("heap")) {
            Runtime rt = Runtime.getRuntime();
            for (int i = 0; i < 3; i++) {
                System.gc(); // G1: a full collection; what remains is live
            }
            System.out.println("heap " + (rt.totalMemory() - rt.freeMemory()) + " committed " + rt.totalMemory());
        }
        System.out.println("end " + System.currentTimeMillis());
    }
}
