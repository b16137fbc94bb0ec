package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.Tid;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The calling thread as BPF programs see it. In a container the JVM has a pid namespace of its
 * own: Java, HotSpot and gettid(2) give its ids there, while bpf_get_current_pid_tgid() gives the
 * host's. The programs compare the host's ids (cheap) and report thread ids at the JVM's level;
 * this runs bpf/whoami.bpf.c on the calling thread (a syscall program runs in the caller's
 * context) to learn both, and the level. Without BPF it answers gettid's ids at level 0: the
 * probes will not load either.
 */
public final class KernelIds {
    /** Host tgid and tid of the calling thread, its tid in the JVM's pid namespace, and that namespace's level. */
    public record Ids(int hostTgid, int hostTid, int nsTid, int pidnsLevel) {
    }

    private static boolean unavailable;
    /** The process's host tgid and namespace level: the same on every thread, asked once. */
    private static Ids process;

    private KernelIds() {
    }

    /**
     * Loads, runs and unloads the program each time (a few ms; the agent asks once per thread of
     * its own): a program kept loaded would outlive a {@code stop} of the agent.
     */
    public static Ids current() {
        synchronized (KernelIds.class) {
            if (!unavailable) {
                try (BpfObject object = BpfObject.openResource("whoami")) {
                    object.load();
                    object.program("whoami").testRun();
                    BpfMap bss = object.mapEndingWith(".bss");
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment key = arena.allocateFrom(ValueLayout.JAVA_INT, 0);
                        MemorySegment value = arena.allocate(bss.valueSize(), 8);
                        if (bss.lookup(key, value)) {
                            return new Ids(value.get(ValueLayout.JAVA_INT, 0), value.get(ValueLayout.JAVA_INT, 4),
                                    value.get(ValueLayout.JAVA_INT, 8), value.get(ValueLayout.JAVA_INT, 12));
                        }
                    }
                } catch (BpfException | java.io.IOException | RuntimeException e) {
                    unavailable = true;
                    Log.debug("whoami: %s; thread ids taken as gettid gives them", e.getMessage());
                }
            }
        }
        int tid = Tid.current();
        return new Ids((int) ProcessHandle.current().pid(), tid, tid, 0);
    }

    /** Host tgid and pid namespace level of this process (the tids in it are the first caller's). */
    public static synchronized Ids process() {
        if (process == null) {
            process = current();
        }
        return process;
    }

    /** The calling thread's host tid (what the probes' agent_*_tid compare with). */
    public static int hostTid() {
        return current().hostTid();
    }
}
