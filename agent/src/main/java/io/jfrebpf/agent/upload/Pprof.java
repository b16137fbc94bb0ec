package io.jfrebpf.agent.upload;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * A recording's stacked events as one pprof profile (gzipped protobuf, google/pprof's
 * profile.proto) with one sample type per kind of event — the form Pyroscope ingests. Which
 * event becomes which type is {@link #KINDS}: CPU samples count, durations are nanoseconds,
 * native memory is bytes. Frames become functions named as the flame graphs name them
 * (Class.method, native symbols, kernel functions with their type in the file name).
 */
final class Pprof {
    /** One sample type: the event it comes from, its pprof type and unit, and Pyroscope's display settings. */
    record Kind(String event, String type, String unit, String units, String aggregation, boolean sampled) {
    }

    static final List<Kind> KINDS = List.of(
            new Kind("ebpf.CPUSample", "cpu", "samples", "samples", "sum", true),
            new Kind("ebpf.OffCPU", "offcpu", "nanoseconds", "samples", "sum", false),
            new Kind("ebpf.SyscallLatency", "syscall", "nanoseconds", "samples", "sum", false),
            new Kind("ebpf.FileOpen", "file_open", "nanoseconds", "samples", "sum", false),
            new Kind("ebpf.PostgresQuery", "postgres_query", "nanoseconds", "samples", "sum", false),
            new Kind("ebpf.RunQueueLatency", "runqueue", "nanoseconds", "samples", "sum", false),
            new Kind("ebpf.NativeAllocation", "native_alloc", "bytes", "bytes", "sum", false),
            new Kind("ebpf.NativeLeak", "native_leak", "bytes", "bytes", "average", false));

    /** The profile and what it holds. */
    record Profile(byte[] gzipped, Map<String, Long> samplesByType, long events) {
        boolean isEmpty() {
            return events == 0;
        }
    }

    private final Map<String, Integer> kindIndex = new HashMap<>();
    private final List<Kind> used = new ArrayList<>();
    private final List<String> strings = new ArrayList<>(List.of(""));
    private final Map<String, Long> stringIds = new HashMap<>();
    private final Map<String, Long> functionIds = new LinkedHashMap<>();
    private final Map<String, long[]> functions = new HashMap<>(); // key -> {id, name, filename}
    private final Map<String, Long> locationIds = new LinkedHashMap<>(); // functionKey:line -> id
    private final Map<Long, long[]> locations = new HashMap<>(); // id -> {functionId, line}
    private final Map<List<Long>, long[]> samples = new LinkedHashMap<>();

    private Pprof() {
        stringIds.put("", 0L);
    }

    /** Reads a recording file and builds its profile: {@code from}/{@code until} are the slice's bounds. */
    static Profile of(Path recording, Instant from, Instant until, int cpuHz) throws IOException {
        Pprof p = new Pprof();
        long events = 0;
        Map<String, Kind> byEvent = new HashMap<>();
        for (Kind k : KINDS) {
            byEvent.put(k.event(), k);
        }
        try (RecordingFile in = new RecordingFile(recording)) {
            while (in.hasMoreEvents()) {
                RecordedEvent e = in.readEvent();
                Kind k = byEvent.get(e.getEventType().getName());
                if (k == null || e.getStackTrace() == null) {
                    continue;
                }
                p.add(k, e);
                events++;
            }
        }
        Map<String, Long> totals = new LinkedHashMap<>();
        for (Map.Entry<List<Long>, long[]> s : p.samples.entrySet()) {
            for (int i = 0; i < p.used.size(); i++) {
                totals.merge(p.used.get(i).type(), s.getValue()[i], Long::sum);
            }
        }
        return new Profile(gzip(p.encode(from, until, cpuHz)), totals, events);
    }

    private void add(Kind k, RecordedEvent e) {
        Integer index = kindIndex.get(k.type());
        if (index == null) {
            index = used.size();
            used.add(k);
            kindIndex.put(k.type(), index);
        }
        long value = switch (k.unit()) {
            case "samples" -> 1;
            case "bytes" -> e.hasField("bytes") ? e.getLong("bytes") : e.hasField("weight") ? e.getLong("weight") : e.getLong("size");
            default -> Math.max(0, e.getDuration().toNanos());
        };
        List<Long> stack = stack(e.getStackTrace());
        long[] values = samples.computeIfAbsent(stack, s -> new long[KINDS.size()]);
        values[index] += value;
    }

    private List<Long> stack(RecordedStackTrace trace) {
        List<Long> ids = new ArrayList<>();
        for (RecordedFrame f : trace.getFrames()) { // leaf first, as pprof wants
            String type = f.getType();
            String name;
            String file;
            if (f.getMethod() == null) {
                name = "[unknown]";
                file = "";
            } else if ("Kernel".equals(type) || "Native".equals(type)) {
                name = f.getMethod().getName();
                file = "Kernel".equals(type) ? "[kernel]" : f.getMethod().getType() != null ? f.getMethod().getType().getName() : "";
            } else {
                name = f.getMethod().getType().getName() + "." + f.getMethod().getName();
                file = f.getMethod().getType().getName().replace('.', '/') + ".java";
            }
            String functionKey = name + "\0" + file;
            Long functionId = functionIds.get(functionKey);
            if (functionId == null) {
                functionId = (long) functionIds.size() + 1;
                functionIds.put(functionKey, functionId);
                functions.put(functionKey, new long[] {functionId, string(name), string(file)});
            }
            long line = Math.max(0, f.getLineNumber());
            String locationKey = functionId + ":" + line;
            Long locationId = locationIds.get(locationKey);
            if (locationId == null) {
                locationId = (long) locationIds.size() + 1;
                locationIds.put(locationKey, locationId);
                locations.put(locationId, new long[] {functionId, line});
            }
            ids.add(locationId);
        }
        return ids;
    }

    private long string(String s) {
        Long id = stringIds.get(s);
        if (id == null) {
            id = (long) strings.size();
            strings.add(s);
            stringIds.put(s, id);
        }
        return id;
    }

    private byte[] encode(Instant from, Instant until, int cpuHz) {
        ProtoWriter profile = new ProtoWriter();
        for (Kind k : used) { // 1: sample_type
            profile.message(1, new ProtoWriter().varint(1, string(k.type())).varint(2, string(k.unit())));
        }
        for (Map.Entry<List<Long>, long[]> s : samples.entrySet()) { // 2: sample
            long[] values = Arrays.copyOf(s.getValue(), used.size());
            profile.message(2, new ProtoWriter().packed(1, s.getKey().stream().mapToLong(Long::longValue).toArray())
                    .packed(2, values));
        }
        for (Map.Entry<Long, long[]> l : locations.entrySet()) { // 4: location
            profile.message(4, new ProtoWriter().varint(1, l.getKey())
                    .message(4, new ProtoWriter().varint(1, l.getValue()[0]).varint(2, l.getValue()[1])));
        }
        for (long[] f : functions.values()) { // 5: function
            profile.message(5, new ProtoWriter().varint(1, f[0]).varint(2, f[1]).varint(3, f[1]).varint(4, f[2]));
        }
        long cpuType = string("cpu");
        long nanoseconds = string("nanoseconds");
        for (String s : strings) { // 6: string_table (after every string() call above)
            profile.repeatedString(6, s);
        }
        profile.varint(9, from.getEpochSecond() * 1_000_000_000L + from.getNano()); // time_nanos
        profile.varint(10, Math.max(0, until.toEpochMilli() - from.toEpochMilli()) * 1_000_000L); // duration_nanos
        profile.message(11, new ProtoWriter().varint(1, cpuType).varint(2, nanoseconds)); // period_type
        profile.varint(12, cpuHz > 0 ? 1_000_000_000L / cpuHz : 0); // period
        return profile.toByteArray();
    }

    /** Pyroscope's sample_type_config: how it shows each type (units, aggregation, display name). */
    static String sampleTypeConfig() {
        StringBuilder b = new StringBuilder("{");
        for (Kind k : KINDS) {
            if (b.length() > 1) {
                b.append(',');
            }
            b.append('"').append(k.type()).append("\":{\"units\":\"").append(k.units()).append("\",\"aggregation\":\"")
                    .append(k.aggregation()).append("\",\"display-name\":\"").append(k.type())
                    .append(k.unit().equals("samples") ? "" : "_" + k.unit()).append("\",\"sampled\":").append(k.sampled())
                    .append('}');
        }
        return b.append('}').toString();
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(b)) {
            z.write(raw);
        }
        return b.toByteArray();
    }
}
