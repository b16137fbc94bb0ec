package io.jfrebpf.jmc;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
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
        super("NativeLeak", "Native Memory Leak Suspects", List.of(EventNames.NATIVE_ALLOCATION), BYTES, APP_PACKAGES);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        CallSites callSites = callSites(p);
        if (Events.of(items, EventNames.NATIVE_ALLOCATION).isEmpty()) {
            return notApplicable(p, "No " + EventNames.NATIVE_ALLOCATION + " events: record with probes=malloc (opt-in) to find native"
                    + " leaks.");
        }
        List<Events.Event> leaks = Events.of(items, EventNames.NATIVE_LEAK);
        if (leaks.isEmpty()) {
            return ok(p, "No sampled native allocation was still allocated, and old enough to count, at the leak report.");
        }
        Map<String, Long> bySite = new HashMap<>();
        long jvmBytes = 0;
        for (Events.Event e : leaks) {
            if (e.allocatedByTheJvm()) {
                jvmBytes += e.bytes("bytes");
            } else {
                bySite.merge(e.callSite(callSites), e.bytes("bytes"), Long::sum);
            }
        }
        long bytes = bySite.values().stream().mapToLong(Long::longValue).sum();
        // the age from which the agent counted an allocation (malloc.age, or less in a short recording)
        long age = leaks.stream().mapToLong(e -> e.nanos("minimumAge")).max().orElse(0);
        String old = age > 0 ? "at least " + ms(age) + " old (" + EventNames.NATIVE_LEAK + ".minimumAge)" : "older than malloc.age";
        String jvm = (jvmBytes >> 10) + " KiB that the JVM allocated for itself left out";
        if (bytes < number(p, BYTES)) {
            return ok(p, "Only " + (bytes >> 10) + " KiB of native memory allocated by application code not freed (" + jvm + ").");
        }
        Map.Entry<String, Long> top = Events.top(bySite, 1).get(0);
        return result(p, WARNING, (bytes >> 10) + " KiB of native memory allocated by application code and never freed; the most ("
                + (top.getValue() >> 10) + " KiB) from " + top.getKey() + ".",
                "Sampled malloc/calloc/realloc calls whose blocks were still allocated at the report and " + old + ":"
                        + " JNI or FFM code, direct buffers, native libraries. Allocations of the JVM for itself (a libjvm frame"
                        + " before any Java frame: code, symbols, metadata; -XX:NativeMemoryTracking accounts for them) are not"
                        + " counted: " + jvm + ".",
                "Free what the code named allocates (Arena scopes for FFM, close() for native resources).");
    }
}
