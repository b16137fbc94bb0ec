package io.jfrebpf.jmc;

import java.util.List;
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
        long bytes = leaks.stream().mapToLong(e -> e.bytes("bytes")).sum();
        if (bytes < number(p, BYTES)) {
            return ok(p, "Only " + bytes + " bytes of native memory not freed.");
        }
        Events.Event top = leaks.stream().max((a, b) -> Long.compare(a.bytes("bytes"), b.bytes("bytes"))).orElseThrow();
        return result(p, WARNING, (bytes >> 10) + " KiB of native memory allocated and never freed; the most ("
                + (top.bytes("bytes") >> 10) + " KiB) from " + top.callSite() + ".",
                "Sampled malloc/calloc/realloc calls whose blocks were still allocated at the report and older than malloc.age:"
                        + " JNI or FFM code, direct buffers, native libraries.",
                "Free what the code named allocates (Arena scopes for FFM, close() for native resources).");
    }
}
