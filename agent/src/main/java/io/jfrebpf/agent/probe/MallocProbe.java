package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.Options;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.BpfProgram;
import io.jfrebpf.agent.os.KernelBtf;
import io.jfrebpf.bpf.MallocNames;
import io.jfrebpf.bpf.MallocObject;
import io.jfrebpf.bpf.MallocSessionObject;
import io.jfrebpf.events.NativeAllocationEvent;
import io.jfrebpf.events.NativeLeakEvent;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code malloc} (opt-in): sampled native allocations of our process as
 * {@code ebpf.NativeAllocation}, and a leak report, {@code ebpf.NativeLeak} per stack, of the
 * sampled allocations still not freed and old enough ({@link #minimumAgeNs}) — at the end of the
 * recording, or when the {@code malloc.duration} window closes (then every malloc probe detaches:
 * frees would go unseen after it). bpf/malloc.bpf.c says how it samples and why the weights are
 * unbiased.
 *
 * <p>Uprobes on the libc this JVM maps, for our pid only. Each traced call is a breakpoint trap:
 * that is the cost (docs/native-memory.md), paid on every call while attached, sampled or not.
 */
public final class MallocProbe extends BpfProbe {
    /** Entry programs by libc function, of bpf/malloc.bpf.c; functions sharing an address get one probe. */
    static final Map<String, String> ENTRIES = entries(MallocObject.Programs.UPROBE_MALLOC, MallocObject.Programs.UPROBE_CALLOC,
            MallocObject.Programs.UPROBE_REALLOC, MallocObject.Programs.UPROBE_POSIX_MEMALIGN,
            MallocObject.Programs.UPROBE_ALIGNED_ALLOC);
    /** The same of bpf/malloc_session.bpf.c. */
    static final Map<String, String> SESSION_ENTRIES = entries(MallocSessionObject.Programs.UPROBE_MALLOC,
            MallocSessionObject.Programs.UPROBE_CALLOC, MallocSessionObject.Programs.UPROBE_REALLOC,
            MallocSessionObject.Programs.UPROBE_POSIX_MEMALIGN, MallocSessionObject.Programs.UPROBE_ALIGNED_ALLOC);
    static final String ALLOC_RETURN = MallocObject.Programs.URETPROBE_ALLOC;
    static final String POSIX_MEMALIGN_RETURN = MallocObject.Programs.URETPROBE_POSIX_MEMALIGN;
    static final int LIVE_MAX_ENTRIES = (int) io.jfrebpf.bpf.MallocLayout.LIVE_MAX_ENTRIES;
    static final int EVERY_CALL_RING_BYTES = 8 << 20;
    /** Leak report: at most this many stacks, the largest first. */
    static final int MAX_LEAK_STACKS = 10_000;

    private String attachedAs = "";
    private long windowEndNs = Long.MAX_VALUE;
    private long attachedNs;
    private boolean reported;
    private long untracked;

    /** Internal switch for the tests of the classic path on a kernel that has sessions. */
    static final String SESSIONS_PROPERTY = "jfrebpf.malloc.sessions";
    private final boolean sessions;

    public MallocProbe() {
        this(sessionsAvailable());
    }

    private MallocProbe(boolean sessions) {
        super("malloc", sessions ? MallocSessionObject.OBJECT : MallocObject.OBJECT, MallocNames.Maps.EVENTS);
        this.sessions = sessions;
    }

    /**
     * Uprobe sessions (Linux 6.13+) let the entry program skip the return trap of the calls it
     * does not sample: the kernel then has the bpf_session_is_return kfunc.
     */
    static boolean sessionsAvailable() {
        if ("false".equals(System.getProperty(SESSIONS_PROPERTY))) {
            return false;
        }
        try {
            return KernelBtf.hasString("bpf_session_is_return");
        } catch (IOException e) {
            Log.debug("malloc: cannot read the kernel's BTF (%s); using uprobes and uretprobes", e.getMessage());
            return false;
        }
    }

    private static Map<String, String> entries(String malloc, String calloc, String realloc, String posixMemalign,
            String alignedAlloc) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("malloc", malloc);
        m.put("calloc", calloc);
        m.put("realloc", realloc);
        m.put("posix_memalign", posixMemalign);
        m.put("aligned_alloc", alignedAlloc);
        m.put("memalign", alignedAlloc);
        return m;
    }

    /** uprobe_multi links for free (Linux 6.6+; sessions, 6.13+, imply it): one grace period at detach, and no CAP_SYS_ADMIN. */
    private boolean multi;

    @Override
    protected void configure(BpfObject object) throws BpfException {
        if (sessions) {
            for (String program : new java.util.LinkedHashSet<>(SESSION_ENTRIES.values())) {
                object.program(program).setExpectedAttachType(BpfProgram.UPROBE_SESSION);
            }
        }
        multi = sessions || LibcFunctions.uprobeMulti();
        if (multi) {
            object.program(MallocNames.Programs.UPROBE_FREE).setExpectedAttachType(BpfProgram.UPROBE_MULTI);
        }
        long interval = context.options().mallocInterval();
        object.rodata().setLong(MallocNames.Rodata.INTERVAL, interval);
        if (interval == 0) {
            // every call is a record: the JVM's start-up bursts are tens of thousands of mallocs in a poll
            object.map(MallocNames.Maps.EVENTS).setMaxEntries(EVERY_CALL_RING_BYTES);
        }
    }

    @Override
    protected void attach(BpfObject object) throws Exception {
        Path libc = LibcFunctions.libc();
        Map<Long, String> byOffset = LibcFunctions.offsets(libc, List.copyOf(ENTRIES.keySet()) /* the same functions as SESSION_ENTRIES */);
        Map<Long, String> free = LibcFunctions.offsets(libc, List.of("free"));
        if (!byOffset.containsValue("malloc") || free.isEmpty()) {
            throw new IOException(libc + " exports no malloc or no free");
        }
        int pid = context.pid();
        List<String> attached = new ArrayList<>();
        try {
            if (sessions) {
                // one session link per program (aligned_alloc and memalign share one): one grace period each at detach
                Map<String, List<Long>> byProgram = new LinkedHashMap<>();
                for (Map.Entry<Long, String> e : byOffset.entrySet()) {
                    byProgram.computeIfAbsent(SESSION_ENTRIES.get(e.getValue()), k -> new ArrayList<>()).add(e.getKey());
                    attached.add(e.getValue());
                }
                for (Map.Entry<String, List<Long>> e : byProgram.entrySet()) {
                    keep(object.program(e.getKey()).attachUprobeMulti(BpfProgram.UPROBE_SESSION, pid, libc.toString(),
                            e.getValue().stream().mapToLong(Long::longValue).toArray(), null, null));
                }
            } else {
                for (Map.Entry<Long, String> e : byOffset.entrySet()) {
                    String function = e.getValue();
                    keep(object.program(ENTRIES.get(function)).attachUprobe(false, pid, libc.toString(), e.getKey()));
                    String ret = function.equals("posix_memalign") ? POSIX_MEMALIGN_RETURN : ALLOC_RETURN;
                    keep(object.program(ret).attachUprobe(true, pid, libc.toString(), e.getKey()));
                    attached.add(function);
                }
            }
            long freeEntry = free.keySet().iterator().next();
            long freeAt = freeEntry + cheapFreeOffset(libc, freeEntry);
            keep(multi ? object.program(MallocNames.Programs.UPROBE_FREE).attachUprobeMulti(BpfProgram.UPROBE_MULTI, pid, libc.toString(),
                    new long[] {freeAt}, null, null) : object.program(MallocNames.Programs.UPROBE_FREE).attachUprobe(false, pid, libc.toString(), freeAt));
            attached.add(freeAt == freeEntry ? "free" : "free+" + (freeAt - freeEntry));
        } catch (BpfException e) {
            throw LibcFunctions.explained(e, "malloc", "");
        }
        long interval = context.options().mallocInterval();
        attachedAs = (sessions ? "uprobe sessions" : "uprobes and uretprobes") + " for pid " + pid + " on " + libc + " (" + String.join(", ", attached) + "), "
                + (interval == 0 ? "every call" : "one sample per " + interval + " bytes")
                + context.options().mallocDuration().map(d -> ", for " + d.toSeconds() + " s").orElse("");
        attachedNs = System.nanoTime();
        context.options().mallocDuration().ifPresent(d -> windowEndNs = attachedNs + d.toNanos());
        Log.info("malloc: %s; every malloc and free of this JVM now traps into the kernel (docs/native-memory.md says what it costs)",
                attachedAs);
    }

    /**
     * Where on free() the uprobe costs least. glibc's free begins with {@code test rdi,rdi; je},
     * and the kernel single-steps a {@code test} out of line (~30 us per call on our VM) but
     * emulates a {@code push} (~7 us): when those bytes are there, the probe goes on the
     * instruction after the branch, which only non-NULL frees reach, with the pointer still in
     * rdi. Anything else: the entry.
     */
    static long cheapFreeOffset(Path library, long fileOffset) {
        byte[] code = new byte[12];
        try (RandomAccessFile f = new RandomAccessFile(library.toFile(), "r")) {
            f.seek(fileOffset);
            f.readFully(code);
        } catch (IOException e) {
            return 0;
        }
        return cheapFreeOffset(code);
    }

    static long cheapFreeOffset(byte[] code) {
        boolean testRdi = (code[0] & 0xff) == 0x48 && (code[1] & 0xff) == 0x85 && (code[2] & 0xff) == 0xff;
        if (!testRdi) {
            return 0;
        }
        int next;
        if ((code[3] & 0xff) == 0x0f && (code[4] & 0xff) == 0x84) {
            next = 9; // je rel32
        } else if ((code[3] & 0xff) == 0x74) {
            next = 5; // je rel8
        } else {
            return 0;
        }
        int op = code[next] & 0xff;
        boolean push = (op >= 0x50 && op <= 0x57)
                || (op == 0x41 && (code[next + 1] & 0xff) >= 0x50 && (code[next + 1] & 0xff) <= 0x57);
        return push ? next : 0;
    }

    @Override
    public String attachedAs() {
        return attachedAs;
    }

    @Override
    protected void onRecord(MemorySegment segment) {
        MallocRecord r = MallocRecord.decode(segment);
        if (r.function() == 0) {
            return; // the warm-up's empty record
        }
        NativeAllocationEvent e = new NativeAllocationEvent();
        e.address = r.address();
        e.size = r.size();
        e.weight = r.weight();
        e.function = MallocRecord.functionName(r.function());
        emit(e, r.header());
    }

    /** Closes the malloc.duration window: the leak report now, then every malloc probe goes. */
    @Override
    public void periodic(long nowNs) {
        if (!reported && nowNs >= windowEndNs) {
            reportLeaks(nowNs);
            detach();
            Log.info("malloc: the %s window is over; the probes are detached", context.options().mallocDuration().orElseThrow());
        }
    }

    @Override
    public void finish(long nowNs) {
        if (!reported) {
            reportLeaks(nowNs);
        }
    }

    /** One stack's outstanding sampled allocations. */
    private static final class Suspect {
        long userStack;
        double bytes;
        double allocations;
        long samples;
        long oldestNs = Long.MAX_VALUE;
        final Map<Integer, Double> bytesByTid = new HashMap<>();

        void add(MallocRecord.Live a) {
            bytes += a.weight();
            allocations += a.size() == 0 ? 1 : (double) a.weight() / a.size();
            samples++;
            oldestNs = Math.min(oldestNs, a.ns());
            bytesByTid.merge(a.tid(), (double) a.weight(), Double::sum);
        }

        int mainTid() {
            return bytesByTid.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(0);
        }
    }

    /**
     * The age from which an allocation not yet freed counts as a leak suspect: malloc.age when
     * given; by default {@link Options#DEFAULT_MALLOC_AGE}, or half the time traced when that is
     * shorter — a recording shorter than the default age would otherwise never report a leak
     * (100 MiB never freed in a 5 s CI capture: 0 bytes), while the younger half of what is
     * outstanding may still be freed.
     */
    static long minimumAgeNs(Optional<Duration> given, long tracedNs) {
        return given.map(Duration::toNanos).orElse(Math.min(Options.DEFAULT_MALLOC_AGE.toNanos(), Math.max(0, tracedNs) / 2));
    }

    private void reportLeaks(long nowNs) {
        reported = true;
        if (object == null) {
            return;
        }
        long tracedNs = nowNs - attachedNs;
        long minAgeNs = minimumAgeNs(context.options().mallocAge(), tracedNs);
        if (context.options().mallocAge().isPresent() && minAgeNs > tracedNs) {
            Log.warn("malloc: malloc.age=%s is longer than the %s the probe traced: no allocation can be old enough to report;"
                    + " leave malloc.age out (it then fits the recording) or make it shorter", seconds(minAgeNs), seconds(tracedNs));
        }
        Map<Long, Suspect> byStack = new HashMap<>();
        long[] live = new long[2];
        // the application frees meanwhile, and a walk whose last key was deleted starts over at the
        // first: each address is counted once (MallocIT once saw 155 MiB leaked of 100)
        Set<Long> seen = new HashSet<>();
        try {
            untracked = object.map(MallocNames.Maps.UNTRACKED).sumPerCpuLong(0);
            object.map(MallocNames.Maps.LIVE).forEach(4L * LIVE_MAX_ENTRIES, (key, value) -> {
                if (!seen.add(key.get(ValueLayout.JAVA_LONG, 0))) {
                    return;
                }
                MallocRecord.Live a = MallocRecord.Live.decode(value);
                live[0]++;
                if (nowNs - a.ns() < minAgeNs) {
                    return;
                }
                live[1]++;
                Suspect s = byStack.computeIfAbsent(a.userStack(), k -> new Suspect());
                s.userStack = a.userStack();
                s.add(a);
            });
        } catch (BpfException | RuntimeException e) {
            Log.warn("malloc: the leak report could not read the kernel's map of live allocations (%s)", e.getMessage());
            return;
        }
        List<Suspect> suspects = new ArrayList<>(byStack.values());
        suspects.sort(Comparator.comparingDouble((Suspect s) -> s.bytes).reversed());
        int pid = context.pid();
        int n = 0;
        for (Suspect s : suspects) {
            if (n++ >= MAX_LEAK_STACKS) {
                break;
            }
            NativeLeakEvent e = new NativeLeakEvent();
            e.bytes = Math.round(s.bytes);
            e.allocations = Math.max(1, Math.round(s.allocations));
            e.samples = s.samples;
            e.minimumAge = minAgeNs;
            EventHeader h = new EventHeader(s.oldestNs, 0, pid, s.mainTid(), s.userStack, EventHeader.NO_STACK, "", 0);
            emit(e, s.oldestNs, nowNs - s.oldestNs, context.recorder().origin(h));
        }
        Log.info("malloc: leak report: %d sampled allocations not freed, %d at least %s old (%s), at %d stacks%s%s",
                live[0], live[1], seconds(minAgeNs), context.options().mallocAge().isPresent() ? "malloc.age"
                        : minAgeNs < Options.DEFAULT_MALLOC_AGE.toNanos() ? "half the " + seconds(tracedNs) + " traced"
                        : "the default malloc.age", suspects.size(),
                suspects.size() > MAX_LEAK_STACKS ? " (the " + MAX_LEAK_STACKS + " largest reported)" : "",
                untracked > 0 ? "; " + untracked + " samples were not tracked (more than " + LIVE_MAX_ENTRIES + " live)" : "");
    }

    /** A duration for the log: "1.5 s". */
    static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
    }

    @Override
    public long lost() {
        return super.lost() + untracked;
    }
}
