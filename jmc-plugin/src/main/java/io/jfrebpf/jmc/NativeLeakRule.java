package io.jfrebpf.jmc;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/** Native memory allocated and not freed, by the stack that allocated it. */
public final class NativeLeakRule extends EbpfRule {
    static final TypedPreference<IQuantity> BYTES = count("malloc.leak", "Native leak suspects",
            "Native memory not freed (bytes, estimated) from which the rule reports", 1 << 20);

    public NativeLeakRule() {
        super("NativeLeak", "Native Memory Leak Suspects", BYTES);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        List<Events.Event> leaks = Events.of(items, "ebpf.NativeLeak");
        if (leaks.isEmpty()) {
            return Events.of(items, "ebpf.ProbeStatus").stream().anyMatch(e -> "malloc".equals(e.text("probe")))
                    ? ok(p, "No native allocation outlived malloc.age without being freed.")
                    : notApplicable(p, "No ebpf.NativeLeak events: record with probes=malloc (opt-in) to find native leaks.");
        }
        Map<String, Long> bySite = new HashMap<>();
        long jvmBytes = 0;
        for (Events.Event e : leaks) {
            if (e.allocatedByTheJvm()) {
                jvmBytes += e.bytes("bytes");
            } else {
                bySite.merge(e.callSite(), e.bytes("bytes"), Long::sum);
            }
        }
        long bytes = bySite.values().stream().mapToLong(Long::longValue).sum();
        String jvm = (jvmBytes >> 10) + " KiB that the JVM allocated for itself left out";
        if (bytes < number(p, BYTES)) {
            return ok(p, "Only " + (bytes >> 10) + " KiB of native memory allocated by application code not freed (" + jvm + ").");
        }
        Map.Entry<String, Long> top = Events.top(bySite, 1).get(0);
        return result(p, WARNING, (bytes >> 10) + " KiB of native memory allocated by application code and never freed; the most ("
                + (top.getValue() >> 10) + " KiB) from " + top.getKey() + ".",
                "Sampled malloc/calloc/realloc calls whose blocks were still allocated at the report and older than malloc.age:"
                        + " JNI or FFM code, direct buffers, native libraries. Allocations of the JVM for itself (a libjvm frame"
                        + " before any Java frame: code, symbols, metadata; -XX:NativeMemoryTracking accounts for them) are not"
                        + " counted: " + jvm + ".",
                "Free what the code named allocates (Arena scopes for FFM, close() for native resources).");
    }
}
