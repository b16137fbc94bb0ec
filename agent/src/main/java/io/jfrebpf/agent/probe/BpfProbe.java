package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.libbpf.BpfLink;
import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.agent.libbpf.RingBufferPoller;
import io.jfrebpf.agent.libbpf.KernelIds;
import io.jfrebpf.bpf.CommonNames;
import io.jfrebpf.bpf.SchedGapNames;
import io.jfrebpf.events.EbpfEvent;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The lifecycle every probe shares: open {@code /io/jfrebpf/bpf/<object>.bpf.o}, set our tgid,
 * let the probe set its tunables, load, let it attach, and hand its {@code events} ring buffer
 * to the poller. Losses are the kernel's {@code lost} counter (ring buffer full, a map full), the
 * times the kernel skipped one of the probe's programs (already running on that CPU: the kernel's
 * recursion_misses) and the events the recorder could not take.
 */
public abstract class BpfProbe implements Probe {
    private final String name;
    private final String objectName;
    private final String eventsMap;
    private final List<BpfLink> links = new ArrayList<>();
    protected ProbeContext context;
    protected BpfObject object;
    private long events;
    private long droppedInAgent;
    private long kernelLost;
    private long skippedByKernel;
    private boolean warming;
    /** Larger than every record: zeroes decode as an empty record of any probe. */
    static final long WARM_UP_RECORD_BYTES = 8192;

    /** objectName, eventsMap: the generated names ({@code io.jfrebpf.bpf.XObject.OBJECT}, {@code .Maps.EVENTS}). */
    protected BpfProbe(String name, String objectName, String eventsMap) {
        this.name = name;
        this.objectName = objectName;
        this.eventsMap = eventsMap;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final void start(ProbeContext context) throws Exception {
        this.context = context;
        if (!loadsLater()) {
            load();
        }
    }

    /**
     * Whether the probe loads its object later, when it has something to trace
     * ({@link #loadDeferred}): a probe whose targets may never appear (a colocated PostgreSQL
     * server) costs nothing until then. Called once, on the poller thread, at start.
     */
    protected boolean loadsLater() {
        return false;
    }

    /** Whether the probe's object is loaded and attached. */
    protected final boolean loaded() {
        return object != null;
    }

    /** Loads and attaches a probe that deferred it ({@link #loadsLater}); on the poller thread. */
    protected final void loadDeferred() throws Exception {
        if (object == null) {
            load();
        }
    }

    private void load() throws Exception {
        try {
            object = openConfigured();
            try {
                object.load();
            } catch (BpfException refused) {
                if (!fallBack(refused)) {
                    throw refused;
                }
                object.close();
                object = null;
                object = openConfigured();
                object.load();
            }
            context.stacks().adopt(object);
            warmUp();
            attach(object);
            context.poller().add(object.map(eventsMap), new Records(this));
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /** The probe's object, opened and configured, not loaded yet. */
    private BpfObject openConfigured() throws BpfException, IOException {
        BpfObject o = BpfObject.openResource(objectName);
        try {
            KernelIds.Ids ids = KernelIds.process();
            o.rodata().setInt(CommonNames.Rodata.TARG_TGID, ids.hostTgid()); // the host's: what the programs compare
            o.rodata().setInt(CommonNames.Rodata.TARG_PIDNS_LEVEL, ids.pidnsLevel());
            o.rodata().setInt(CommonNames.Rodata.AGENT_TID, context.agentTid());
            o.rodata().setInt(CommonNames.Rodata.AGENT_WRITER_TID, context.writerTid());
            o.rodata().setInt(CommonNames.Rodata.AGENT_AUX_TID, context.background().tid());
            context.stacks().prepare(o);
            context.recorder().threads().mountedThreads().prepare(o);
            configure(o);
            return o;
        } catch (BpfException | RuntimeException | Error e) {
            o.close();
            throw e;
        }
    }

    /**
     * Whether the probe has a plainer configuration to load instead, after the kernel refused
     * {@code refused} (a helper the kernel has but its verifier does not allow there): then the
     * object is opened again and {@link #configure} is called again, where the probe chooses
     * the other way. False (the default): the refusal stands.
     */
    protected boolean fallBack(BpfException refused) {
        return false;
    }

    /**
     * Runs the decode path once, on a zeroed record, before the probe sees real ones: a cold
     * decoder (class loading, interpreted code) puts the first events tens of milliseconds
     * behind, and a short-lived thread can end in that time, before the thread registry gets to
     * see which Java thread it was.
     */
    private void warmUp() {
        warming = true;
        try (Arena arena = Arena.ofConfined()) {
            onRecord(arena.allocate(WARM_UP_RECORD_BYTES, 8));
        } catch (RuntimeException e) {
            Log.debug("probe %s: warm-up decode failed: %s", name, e);
        } finally {
            warming = false;
        }
    }

    /** Sets the probe's .rodata tunables and program autoload before load. */
    protected abstract void configure(BpfObject object) throws BpfException;

    /** Attaches the programs; each link goes through {@link #keep(BpfLink)}. */
    protected abstract void attach(BpfObject object) throws Exception;

    /** Decodes one record of the ring buffer and emits its event. Runs on the poller thread. */
    protected abstract void onRecord(MemorySegment record);

    /** The ring buffer's handler: a class, not a method reference (each costs a spun class at start-up). */
    private static final class Records implements RingBufferPoller.RecordHandler {
        private final BpfProbe probe;

        Records(BpfProbe probe) {
            this.probe = probe;
        }

        @Override
        public void onRecord(MemorySegment record) {
            probe.onRecord(record);
        }
    }

    protected final void keep(BpfLink link) {
        links.add(link);
    }

    /** How long a detach waits for its links (each uprobe link waits for a grace period, together). */
    static final long DETACH_WAIT_MS = 5_000;

    /** Detaches every program now, the links together ({@link BpfLink#closeAll}); the maps stay readable until {@link #close()}. */
    protected final void detach() {
        List<BpfLink> all = new ArrayList<>(links);
        java.util.Collections.reverse(all);
        links.clear();
        BpfLink.closeAll(all, DETACH_WAIT_MS);
    }

    protected final int linkCount() {
        return links.size();
    }

    /** Emits an event on the thread of its record, counting it delivered or lost. */
    protected final void emit(EbpfEvent event, EventHeader header) {
        if (warming) {
            return;
        }
        count(context.recorder().emit(event, header));
    }

    /** Emits an event whose kernel frames came in the record itself rather than through the kernel stack map. */
    protected final void emit(EbpfEvent event, EventHeader header, long[] kernelPcs) {
        if (warming) {
            return;
        }
        count(context.recorder().emit(event, header, kernelPcs));
    }

    /** Emits an event of a virtual thread while it was not mounted ({@link Recorder#emitUnmounted}). */
    protected final void emitUnmounted(EbpfEvent event, EventHeader header) {
        if (warming) {
            return;
        }
        count(context.recorder().emitUnmounted(event, header));
    }

    /** Emits an event on a thread and stack resolved earlier ({@link Recorder#origin}). */
    protected final void emit(EbpfEvent event, long startNs, long durationNs, Recorder.Origin origin) {
        if (warming) {
            return;
        }
        count(context.recorder().emit(event, startNs, durationNs, origin));
    }

    /** Emits an event of the process as a whole. */
    protected final void emit(EbpfEvent event, long startNs, long durationNs) {
        if (warming) {
            return;
        }
        count(context.recorder().emit(event, startNs, durationNs));
    }

    private void count(boolean delivered) {
        if (delivered) {
            events++;
        } else {
            droppedInAgent++;
        }
    }

    @Override
    public long events() {
        return events;
    }

    @Override
    public long lost() {
        readKernelLost();
        return kernelLost + droppedInAgent;
    }

    private void readKernelLost() {
        if (object == null) {
            return;
        }
        try {
            long skipped = 0;
            for (var program : object.programs()) {
                skipped += program.recursionMisses();
            }
            skippedByKernel = skipped;
            kernelLost = object.map(CommonNames.Maps.LOST).sumPerCpuLong(0) + skipped;
        } catch (BpfException | RuntimeException e) {
            Log.debug("probe %s: cannot read its loss counters: %s", name, e.getMessage());
        }
    }

    /**
     * What the probe's programs recover when the scheduler tracepoint did not show a thread
     * coming back (bpf/sched_gap.bpf.h: their {@code recovered} map) and what became of them, for
     * the log after their count; null when they do not.
     */
    protected String recoveredWhat() {
        return null;
    }

    private void logRecovered() {
        String what = recoveredWhat();
        if (what == null || object == null) {
            return;
        }
        try {
            long recovered = object.map(SchedGapNames.Maps.RECOVERED).sumPerCpuLong(0);
            if (recovered > 0) {
                Log.info("probe %s: %d %s; when it came back is its CPU time since it was last seen", name, recovered, what);
            }
        } catch (BpfException | RuntimeException e) {
            Log.debug("probe %s: cannot read its recovered counter: %s", name, e.getMessage());
        }
    }

    /** What a probe says of its own counters when it stops, before its object is closed (loaded only). */
    protected void closing(BpfObject loaded) throws BpfException {
    }

    @Override
    public void close() {
        readKernelLost();
        if (skippedByKernel > 0) {
            Log.info("probe %s: the kernel skipped its programs %d times (already running on that CPU); counted as lost",
                    name, skippedByKernel);
        }
        logRecovered();
        if (object != null) {
            try {
                closing(object);
            } catch (BpfException | RuntimeException e) {
                Log.debug("probe %s: cannot read its counters: %s", name, e.getMessage());
            }
        }
        detach();
        if (object != null) {
            try {
                object.close();
            } catch (RuntimeException e) {
                Log.debug("probe %s: close failed: %s", name, e);
            }
            object = null;
        }
    }
}
