package io.jfrebpf.events.read.pprof;

import io.jfrebpf.events.read.FrameNames;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.zip.GZIPOutputStream;

/**
 * One kind's stacks of one period as gzipped pprof profiles (google/pprof profile.proto), split
 * so that each stays well inside what a Pyroscope server takes by default: at most
 * {@link #MAX_SAMPLES} samples (the server refuses over 16,000: validation.max-profile-stacktrace-samples)
 * and {@link #MAX_BYTES} uncompressed (it refuses over 4 MiB, validation.max-profile-size-bytes, and
 * a profile larger than its 2 MiB rate-limit burst, distributor.ingestion-burst-size-mb, is refused
 * with 429 however often it is sent again). The server adds up the pieces of one period. Laid out as
 * Pyroscope's own Java profiles (grafana/jfr-parser pprof/profile_builder.go): one mapping, a
 * function per name ({@link FrameNames#pprof}), a location per function and line.
 *
 * <p>Stacks come in whatever form the reader has them (the agent's own frames, jdk.jfr's), each
 * turned into pprof's frames by the caller's function ({@link Frame#of}).
 */
public final class Pprof {
    public static final int MAX_SAMPLES = 8_000;
    public static final int MAX_BYTES = 1 << 20;
    /** Room kept for the fields other than samples, locations, functions and strings. */
    private static final int HEADER_BYTES = 1024;

    /** One profile to send: a whole period of one kind, or a part of it. */
    public record Piece(ProfileKind kind, byte[] gzipped, int samples, int rawBytes, Instant from, Instant until) {
    }

    /** A frame as pprof keeps it: its function's name and a line. */
    public record Frame(String function, long line) {
        /** A frame by its jdk.jfr type ({@link io.jfrebpf.events.read.FrameTypes}), class (null without one), method and line. */
        public static Frame of(String frameType, String className, String method, int line) {
            return new Frame(FrameNames.pprof(frameType, className, method), Math.max(0, line));
        }
    }

    private Pprof() {
    }

    /**
     * The profiles of one kind and period; none when nothing weighs anything. stacks: the values
     * of each stack, one per sample type of the kind (CPU: samples, sent as nanoseconds of
     * {@code cpuPeriodNs}); frames: a stack's frames, innermost first, as pprof wants them.
     */
    public static <S> List<Piece> encode(ProfileKind kind, Map<S, long[]> stacks, Function<? super S, List<Frame>> frames,
            Instant from, Instant until, long cpuPeriodNs) {
        return encode(kind, stacks, frames, from, until, cpuPeriodNs, MAX_SAMPLES, MAX_BYTES);
    }

    private static <S> List<Piece> encode(ProfileKind kind, Map<S, long[]> stacks, Function<? super S, List<Frame>> toFrames,
            Instant from, Instant until, long cpuPeriodNs, int maxSamples, int maxBytes) {
        Map<List<Frame>, long[]> merged = new LinkedHashMap<>(); // stacks that differ only in what pprof does not keep
        for (Map.Entry<S, long[]> e : stacks.entrySet()) {
            long[] v = e.getValue();
            List<Frame> frames = toFrames.apply(e.getKey());
            if (frames.isEmpty() || isZero(v)) {
                continue;
            }
            long[] sum = merged.computeIfAbsent(frames, f -> new long[v.length]);
            for (int i = 0; i < v.length; i++) {
                sum[i] += v[i];
            }
        }
        List<Piece> pieces = new ArrayList<>();
        Builder b = new Builder(kind, from, until, cpuPeriodNs);
        for (Map.Entry<List<Frame>, long[]> s : merged.entrySet()) {
            long[] values = s.getValue();
            if (kind == ProfileKind.CPU) {
                values = new long[] {values[0] * cpuPeriodNs};
            }
            if (b.samples > 0 && (b.samples >= maxSamples || b.bytes() + b.cost(s.getKey(), values) > maxBytes - HEADER_BYTES)) {
                pieces.add(b.finish());
                b = new Builder(kind, from, until, cpuPeriodNs);
            }
            b.add(s.getKey(), values);
        }
        if (b.samples > 0) {
            pieces.add(b.finish());
        }
        return pieces;
    }

    private static boolean isZero(long[] values) {
        for (long v : values) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }

    /** One profile being built: its tables, and each kept as the encoded fields it adds. */
    private static final class Builder {
        private final ProfileKind kind;
        private final Instant from;
        private final Instant until;
        private final long cpuPeriodNs;
        private final Map<String, Long> strings = new HashMap<>();
        private final ProtoWriter stringTable = new ProtoWriter();
        private final Map<String, Long> functions = new HashMap<>();
        private final ProtoWriter functionFields = new ProtoWriter();
        private final Map<Frame, Long> locations = new HashMap<>();
        private final ProtoWriter locationFields = new ProtoWriter();
        private final ProtoWriter sampleFields = new ProtoWriter();
        private int samples;

        Builder(ProfileKind kind, Instant from, Instant until, long cpuPeriodNs) {
            this.kind = kind;
            this.from = from;
            this.until = until;
            this.cpuPeriodNs = cpuPeriodNs;
            string(""); // pprof's string table begins with the empty string
        }

        int bytes() {
            return stringTable.size() + functionFields.size() + locationFields.size() + sampleFields.size();
        }

        /** At least what adding this sample adds (each new location, function and string at its largest). */
        int cost(List<Frame> frames, long[] values) {
            int c = 12 + 11 * (frames.size() + values.length);
            Set<Frame> newLocations = new HashSet<>();
            Set<String> newFunctions = new HashSet<>();
            for (Frame f : frames) {
                if (locations.containsKey(f) || !newLocations.add(f)) {
                    continue;
                }
                c += 40;
                if (functions.containsKey(f.function()) || !newFunctions.add(f.function())) {
                    continue;
                }
                c += 35;
                if (!strings.containsKey(f.function())) {
                    c += 11 + f.function().getBytes(StandardCharsets.UTF_8).length;
                }
            }
            return c;
        }

        void add(List<Frame> frames, long[] values) {
            long[] ids = new long[frames.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = location(frames.get(i));
            }
            sampleFields.message(2, new ProtoWriter().packed(1, ids).packed(2, values));
            samples++;
        }

        private long location(Frame f) {
            Long id = locations.get(f);
            if (id == null) {
                id = (long) locations.size() + 1;
                locations.put(f, id);
                locationFields.message(4, new ProtoWriter().varint(1, id).varint(2, 1) // mapping 1
                        .message(4, new ProtoWriter().varint(1, function(f.function())).varint(2, f.line())));
            }
            return id;
        }

        private long function(String name) {
            Long id = functions.get(name);
            if (id == null) {
                id = (long) functions.size() + 1;
                functions.put(name, id);
                functionFields.message(5, new ProtoWriter().varint(1, id).varint(2, string(name)));
            }
            return id;
        }

        private long string(String s) {
            Long id = strings.get(s);
            if (id == null) {
                id = (long) strings.size();
                strings.put(s, id);
                stringTable.repeatedString(6, s);
            }
            return id;
        }

        Piece finish() {
            ProtoWriter head = new ProtoWriter();
            for (ProfileKind.SampleType t : kind.sampleTypes) { // 1: sample_type
                head.message(1, new ProtoWriter().varint(1, string(t.type())).varint(2, string(t.unit())));
            }
            ProtoWriter tail = new ProtoWriter()
                    .message(3, new ProtoWriter().varint(1, 1).varint(7, 1)) // mapping 1, has_functions
                    .varint(9, from.getEpochSecond() * 1_000_000_000L + from.getNano()) // time_nanos
                    .varint(10, Math.max(0, Duration.between(from, until).toNanos())); // duration_nanos
            if (kind.periodType != null) {
                tail.message(11, new ProtoWriter().varint(1, string(kind.periodType.type())).varint(2, string(kind.periodType.unit())))
                        .varint(12, cpuPeriodNs); // period
            }
            byte[] raw = head.append(sampleFields).append(locationFields).append(functionFields).append(tail)
                    .append(stringTable) // last: every string is in it by now
                    .toByteArray();
            return new Piece(kind, gzip(raw), samples, raw.length, from, until);
        }
    }

    private static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(raw.length / 4 + 64);
        try (GZIPOutputStream z = new GZIPOutputStream(b)) {
            z.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not with a ByteArrayOutputStream
        }
        return b.toByteArray();
    }
}
