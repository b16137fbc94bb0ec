package io.jfrebpf.agent.it;

import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Defines, runs and drops classes for {@code seconds}: each round defines a new hidden class
 * from {@link ChurnedSpinner}'s bytes, spins in its method for ~1 ms (so CPU samples land in it), and
 * lets it go; a GC every 200 rounds unloads the old ones, freeing their Method*s while samples
 * that name them may still be on their way to the agent. Prints how many classes it made.
 */
final class ClassChurn {
    private ClassChurn() {
    }

    static volatile long sink;

    public static void main(String[] args) throws Throwable {
        double seconds = Double.parseDouble(args[0]);
        byte[] bytes;
        try (InputStream in = ClassChurn.class.getResourceAsStream("ChurnedSpinner.class")) {
            bytes = in.readAllBytes();
        }
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long classes = 0;
        while (System.nanoTime() < end) {
            MethodHandles.Lookup hidden = lookup.defineHiddenClass(bytes, true);
            MethodHandle spin = hidden.findStatic(hidden.lookupClass(), "spin", MethodType.methodType(long.class, long.class));
            sink += (long) spin.invokeExact(classes);
            classes++;
            if (classes % 200 == 0) {
                System.gc();
            }
        }
        System.out.println("classes defined and dropped: " + classes);
    }
}
