package io.jfrebpf.agent.it;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reads back what the test server received: a gzipped pprof profile (google/pprof profile.proto),
 * decoded from the wire format independently of the agent's writer.
 */
record PprofReader(List<String> strings, List<String[]> sampleTypes, List<long[]> sampleValues,
        Map<Long, Long> locationToFunction, Map<Long, String> functionNames, List<long[]> sampleLocations) {

    static PprofReader read(byte[] gzipped) throws IOException {
        byte[] raw;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
            raw = in.readAllBytes();
        }
        List<String> strings = new ArrayList<>();
        List<long[]> types = new ArrayList<>();
        List<long[]> values = new ArrayList<>();
        List<long[]> sampleLocations = new ArrayList<>();
        Map<Long, Long> locationToFunction = new HashMap<>();
        Map<Long, Long> functionName = new HashMap<>();
        Wire w = new Wire(raw, 0, raw.length);
        while (w.more()) {
            long tag = w.varint();
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (wire == 0) {
                w.varint();
                continue;
            }
            Wire m = w.bytes();
            switch (field) {
                case 1 -> types.add(new long[] {m.field(1), m.field(2)});
                case 2 -> {
                    long[][] parts = m.packedFields(1, 2);
                    sampleLocations.add(parts[0]);
                    values.add(parts[1]);
                }
                case 4 -> {
                    long id = m.field(1);
                    Wire line = m.message(4);
                    locationToFunction.put(id, line == null ? 0 : line.field(1));
                }
                case 5 -> functionName.put(m.field(1), m.field(2));
                case 6 -> strings.add(new String(m.data, m.at, m.end - m.at, StandardCharsets.UTF_8));
                default -> {
                }
            }
        }
        List<String[]> sampleTypes = types.stream().map(t -> new String[] {strings.get((int) t[0]), strings.get((int) t[1])}).toList();
        Map<Long, String> names = new HashMap<>();
        functionName.forEach((id, s) -> names.put(id, strings.get(s.intValue())));
        return new PprofReader(strings, sampleTypes, values, locationToFunction, names, sampleLocations);
    }

    long total(String type) {
        int i = -1;
        for (int t = 0; t < sampleTypes.size(); t++) {
            if (sampleTypes.get(t)[0].equals(type)) {
                i = t;
            }
        }
        long sum = 0;
        for (long[] v : sampleValues) {
            sum += i >= 0 && i < v.length ? v[i] : 0;
        }
        return sum;
    }

    /** Total of a type over the samples whose stack has a function whose name contains {@code name}. */
    long totalWith(String type, String name) {
        int i = -1;
        for (int t = 0; t < sampleTypes.size(); t++) {
            if (sampleTypes.get(t)[0].equals(type)) {
                i = t;
            }
        }
        long sum = 0;
        for (int s = 0; s < sampleValues.size(); s++) {
            boolean has = false;
            for (long loc : sampleLocations.get(s)) {
                String f = functionNames.get(locationToFunction.get(loc));
                has |= f != null && f.contains(name);
            }
            if (has && i >= 0) {
                sum += sampleValues.get(s)[i];
            }
        }
        return sum;
    }

    /** The protobuf wire format over a byte range. */
    private static final class Wire {
        final byte[] data;
        int at;
        final int end;

        Wire(byte[] data, int at, int end) {
            this.data = data;
            this.at = at;
            this.end = end;
        }

        boolean more() {
            return at < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0;; shift += 7) {
                byte b = data[at++];
                v |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
        }

        Wire bytes() {
            int n = (int) varint();
            Wire w = new Wire(data, at, at + n);
            at += n;
            return w;
        }

        /** The last varint value of a field (0 if absent). */
        long field(int wanted) {
            Wire w = new Wire(data, at, end);
            long value = 0;
            while (w.more()) {
                long tag = w.varint();
                if ((tag & 7) == 0) {
                    long v = w.varint();
                    if (tag >>> 3 == wanted) {
                        value = v;
                    }
                } else {
                    w.bytes();
                }
            }
            return value;
        }

        Wire message(int wanted) {
            Wire w = new Wire(data, at, end);
            while (w.more()) {
                long tag = w.varint();
                if ((tag & 7) == 0) {
                    w.varint();
                } else {
                    Wire m = w.bytes();
                    if (tag >>> 3 == wanted) {
                        return m;
                    }
                }
            }
            return null;
        }

        long[][] packedFields(int a, int b) {
            List<Long> first = new ArrayList<>();
            List<Long> second = new ArrayList<>();
            Wire w = new Wire(data, at, end);
            while (w.more()) {
                long tag = w.varint();
                if ((tag & 7) == 2) {
                    Wire p = w.bytes();
                    while (p.more()) {
                        (tag >>> 3 == a ? first : tag >>> 3 == b ? second : new ArrayList<Long>()).add(p.varint());
                    }
                } else {
                    w.varint();
                }
            }
            return new long[][] {first.stream().mapToLong(Long::longValue).toArray(), second.stream().mapToLong(Long::longValue).toArray()};
        }
    }
}
