package io.jfrebpf.agent.jfr;

import io.jfrebpf.agent.Log;
import java.lang.instrument.Instrumentation;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Set;

/**
 * The JVM's JFR tick clock, as an offset from CLOCK_MONOTONIC (the clock of
 * {@code bpf_ktime_get_ns} and {@link System#nanoTime()}).
 *
 * <p>Why it matters: the JDK's parser (JDK 25 {@code ChunkParser}) converts the ticks of every
 * chunk of a file with the time converter of the <em>first</em> chunk, so our chunk, appended
 * after the JVM's, must count time in the JVM's ticks. HotSpot's ticks are nanoseconds since
 * its own start ({@code os::elapsed_counter}), so {@code ticks = monotonic - offset}.
 *
 * <p>The offset is measured exactly by reading {@code jdk.jfr.internal.JVM.counterTime()}
 * between two {@code System.nanoTime()} calls (the package is opened to us through the agent's
 * {@link Instrumentation}). Without it (no instrumentation, a JVM that hides it) the JVM's start
 * time from the runtime MXBean gives the offset to about a millisecond, and that is logged.
 */
public record JvmTicks(long offsetNanos, boolean exact) {
    /** No JVM recording in the file: our ticks are CLOCK_MONOTONIC itself. */
    public static final JvmTicks MONOTONIC = new JvmTicks(0, true);

    /** The JVM tick value of a CLOCK_MONOTONIC nanosecond time. */
    public long ticks(long monotonicNanos) {
        return monotonicNanos - offsetNanos;
    }

    public static JvmTicks measure(Instrumentation inst) {
        try {
            Method counterTime = counterTime(inst);
            if (counterTime != null && frequency(counterTime.getDeclaringClass()) == 1_000_000_000L) {
                long best = Long.MAX_VALUE;
                long offset = 0;
                for (int i = 0; i < 20; i++) {
                    long a = System.nanoTime();
                    long ticks = (long) counterTime.invoke(null);
                    long b = System.nanoTime();
                    if (b - a < best) {
                        best = b - a;
                        offset = a + (b - a) / 2 - ticks;
                    }
                }
                return new JvmTicks(offset, true);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.debug("JFR's tick counter is not readable (%s)", e);
        }
        long uptimeNanos = ManagementFactory.getRuntimeMXBean().getUptime() * 1_000_000L;
        Log.warn("JFR's tick counter is not readable; our event times are aligned with the JVM's to about 1 ms");
        return new JvmTicks(System.nanoTime() - uptimeNanos, false);
    }

    private static Method counterTime(Instrumentation inst) throws ReflectiveOperationException {
        Class<?> jvm = Class.forName("jdk.jfr.internal.JVM");
        Module ours = JvmTicks.class.getModule();
        if (!jvm.getModule().isExported("jdk.jfr.internal", ours)) {
            if (inst == null || !inst.isModifiableModule(jvm.getModule())) {
                return null;
            }
            inst.redefineModule(jvm.getModule(), Set.of(), Map.of("jdk.jfr.internal", Set.of(ours)), Map.of(), Set.of(), Map.of());
        }
        return jvm.getMethod("counterTime");
    }

    private static long frequency(Class<?> jvm) throws ReflectiveOperationException {
        return (long) jvm.getMethod("getTicksFrequency").invoke(null);
    }
}
