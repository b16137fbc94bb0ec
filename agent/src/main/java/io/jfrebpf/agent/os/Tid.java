package io.jfrebpf.agent.os;

/** The kernel's id of the calling thread ({@code gettid(2)}), which Java does not expose. */
public final class Tid {
    private static final NativeFunction GETTID = NativeFunction.libc("gettid");
    private static volatile boolean missing;

    private Tid() {
    }

    /** The caller's tid, or 0 if libc has no gettid (glibc before 2.30). */
    public static int current() {
        if (missing) {
            return 0;
        }
        try {
            return (int) GETTID.call();
        } catch (UnsatisfiedLinkError e) {
            missing = true;
            return 0;
        }
    }
}
