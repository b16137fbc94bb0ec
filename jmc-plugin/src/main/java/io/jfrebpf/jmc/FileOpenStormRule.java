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

/** The same path opened over and over: a cache or a kept-open handle is missing. */
public final class FileOpenStormRule extends EbpfRule {
    static final TypedPreference<IQuantity> OPENS = count("file.storm", "File-open storm",
            "A path opened at least this many times is reported", 200);

    public FileOpenStormRule() {
        super("FileOpenStorm", "File-Open Storms", List.of(EventNames.FILE_OPEN), OPENS, APP_PACKAGES);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        CallSites callSites = callSites(p);
        List<Events.Event> opens = Events.of(items, EventNames.FILE_OPEN);
        if (opens.isEmpty()) {
            return notApplicable(p, "No " + EventNames.FILE_OPEN + " events: record with probes=file (on by default).");
        }
        Map<String, Long> byPath = new HashMap<>();
        Map<String, Map<String, Long>> sites = new HashMap<>();
        for (Events.Event e : opens) {
            String path = e.text("path");
            if (path != null && e.onApplicationThread()) {
                byPath.merge(path, 1L, Long::sum);
                sites.computeIfAbsent(path, k -> new HashMap<>()).merge(e.callSite(callSites), 1L, Long::sum);
            }
        }
        long limit = number(p, OPENS);
        long storms = byPath.values().stream().filter(n -> n >= limit).count();
        if (storms == 0) {
            return ok(p, "No path was opened " + limit + " times or more.");
        }
        Map.Entry<String, Long> worst = Events.top(byPath, 1).get(0);
        return result(p, WARNING, storms + " paths opened " + limit + " times or more; the most: " + worst.getKey() + " ("
                + worst.getValue() + " opens, from " + Events.topSite(sites.get(worst.getKey())) + ").",
                "Each open walks the path in the kernel and costs a syscall and a file descriptor; the same file opened again"
                        + " and again usually means its content or handle is not kept.",
                "Cache the content (or keep the file open) in the code named.");
    }
}
