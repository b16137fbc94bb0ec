package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.Tid;
import io.jfrebpf.bpf.WhoamiObject;
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
     * The inode of the initial pid namespace ({@code PROC_PID_INIT_INO}, include/linux/proc_ns.h):
     * fixed by the kernel, so {@code /proc/self/ns/pid} names it in the host's namespace.
     */
    static final String INIT_PID_NAMESPACE = "pid:[4026531836]";

    /**
     * In the host's pid namespace (the usual case) the ids gettid(2) gives are the host's, at
     * level 0, and no program is needed. Otherwise loads, runs and unloads the program (the
     * agent asks once per thread of its own): a program kept loaded would outlive a
     * {@code stop} of the agent.
     */
    public static Ids current() {
        if (inInitialPidNamespace()) {
            int tid = Tid.current();
            return new Ids((int) ProcessHandle.current().pid(), tid, tid, 0);
        }
        synchronized (KernelIds.class) {
            if (!unavailable) {
                try (BpfObject object = BpfObject.openResource(WhoamiObject.OBJECT)) {
                    object.load();
                    object.program(WhoamiObject.Programs.WHOAMI).testRun();
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

    private static Boolean initialNamespace;

    /** Whether this process runs in the kernel's initial pid namespace (read once). */
    static synchronized boolean inInitialPidNamespace() {
        if (initialNamespace == null) {
            boolean initial;
            try {
                initial = INIT_PID_NAMESPACE.equals(java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/ns/pid")).toString());
            } catch (java.io.IOException | RuntimeException e) {
                initial = false; // unreadable: ask the kernel through the program
            }
            initialNamespace = initial;
        }
        return initialNamespace;
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
