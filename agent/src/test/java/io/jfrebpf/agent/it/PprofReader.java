package io.jfrebpf.agent.it;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * A pprof profile as a server receives it, decoded by Google's protobuf runtime (protobuf-java's
 * {@link DynamicMessage}) over the messages of google/pprof's {@code proto/profile.proto}, declared
 * here field by field: nothing of the agent's encoder is used, so a wrong field number, wire type
 * or packing on either side shows. protobuf-java rather than a hand-written decoder, because its
 * parser is the reference Java one and checks the wire format itself; rather than generated
 * classes, because the build has no protoc. The records mirror the messages (ids and string
 * indices as they are), for the test server's validation; the methods resolve names.
 */
public record PprofReader(List<ValueType> sampleType, List<Sample> sample, List<Mapping> mapping, List<Location> location,
        List<Function> function, List<String> stringTable, long timeNanos, long durationNanos, ValueType periodType, long period,
        int rawSize) {

    public record ValueType(long type, long unit) {
    }

    public record Sample(List<Long> locationId, List<Long> value, List<LabelPair> label) {
    }

    public record LabelPair(long key, long str, long num) {
    }

    public record Mapping(long id, long filename, long buildId, boolean hasFunctions) {
    }

    public record Location(long id, long mappingId, List<Line> line) {
    }

    public record Line(long functionId, long line) {
    }

    public record Function(long id, long name, long systemName, long filename) {
    }

    private static final String PACKAGE = "perftools.profiles";
    private static final Descriptors.Descriptor PROFILE;

    static {
        FileDescriptorProto file = FileDescriptorProto.newBuilder().setName("profile.proto").setPackage(PACKAGE).setSyntax("proto3")
                .addMessageType(message("Profile",
                        repeated("sample_type", 1, "ValueType"), repeated("sample", 2, "Sample"), repeated("mapping", 3, "Mapping"),
                        repeated("location", 4, "Location"), repeated("function", 5, "Function"),
                        field("string_table", 6, Type.TYPE_STRING, Label.LABEL_REPEATED), field("drop_frames", 7, Type.TYPE_INT64),
                        field("keep_frames", 8, Type.TYPE_INT64), field("time_nanos", 9, Type.TYPE_INT64),
                        field("duration_nanos", 10, Type.TYPE_INT64), single("period_type", 11, "ValueType"),
                        field("period", 12, Type.TYPE_INT64), field("comment", 13, Type.TYPE_INT64, Label.LABEL_REPEATED),
                        field("default_sample_type", 14, Type.TYPE_INT64)))
                .addMessageType(message("ValueType", field("type", 1, Type.TYPE_INT64), field("unit", 2, Type.TYPE_INT64)))
                .addMessageType(message("Sample", field("location_id", 1, Type.TYPE_UINT64, Label.LABEL_REPEATED),
                        field("value", 2, Type.TYPE_INT64, Label.LABEL_REPEATED), repeated("label", 3, "Label")))
                .addMessageType(message("Label", field("key", 1, Type.TYPE_INT64), field("str", 2, Type.TYPE_INT64),
                        field("num", 3, Type.TYPE_INT64), field("num_unit", 4, Type.TYPE_INT64)))
                .addMessageType(message("Mapping", field("id", 1, Type.TYPE_UINT64), field("memory_start", 2, Type.TYPE_UINT64),
                        field("memory_limit", 3, Type.TYPE_UINT64), field("file_offset", 4, Type.TYPE_UINT64),
                        field("filename", 5, Type.TYPE_INT64), field("build_id", 6, Type.TYPE_INT64),
                        field("has_functions", 7, Type.TYPE_BOOL), field("has_filenames", 8, Type.TYPE_BOOL),
                        field("has_line_numbers", 9, Type.TYPE_BOOL), field("has_inline_frames", 10, Type.TYPE_BOOL)))
                .addMessageType(message("Location", field("id", 1, Type.TYPE_UINT64), field("mapping_id", 2, Type.TYPE_UINT64),
                        field("address", 3, Type.TYPE_UINT64), repeated("line", 4, "Line"), field("is_folded", 5, Type.TYPE_BOOL)))
                .addMessageType(message("Line", field("function_id", 1, Type.TYPE_UINT64), field("line", 2, Type.TYPE_INT64)))
                .addMessageType(message("Function", field("id", 1, Type.TYPE_UINT64), field("name", 2, Type.TYPE_INT64),
                        field("system_name", 3, Type.TYPE_INT64), field("filename", 4, Type.TYPE_INT64),
                        field("start_line", 5, Type.TYPE_INT64)))
                .build();
        try {
            PROFILE = Descriptors.FileDescriptor.buildFrom(file, new Descriptors.FileDescriptor[0]).findMessageTypeByName("Profile");
        } catch (Descriptors.DescriptorValidationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A profile, gzipped or not (the server takes both: grafana/pyroscope pkg/pprof/pprof.go, openBytes). */
    public static PprofReader read(byte[] body) throws IOException {
        return decode(uncompressed(body, Long.MAX_VALUE));
    }

    /** The uncompressed bytes; an IOException past {@code limit} bytes. */
    public static byte[] uncompressed(byte[] body, long limit) throws IOException {
        boolean gzip = body.length >= 2 && (body[0] & 0xff) == 0x1f && (body[1] & 0xff) == 0x8b;
        try (InputStream in = gzip ? new GZIPInputStream(new ByteArrayInputStream(body)) : new ByteArrayInputStream(body)) {
            byte[] raw = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit) + 1);
            if (raw.length > limit) {
                throw new IOException("uncompressed profile over " + limit + " bytes");
            }
            return raw;
        }
    }

    public static PprofReader decode(byte[] raw) throws InvalidProtocolBufferException {
        DynamicMessage p = DynamicMessage.parseFrom(PROFILE, raw);
        List<ValueType> types = messages(p, "sample_type").stream().map(PprofReader::valueType).toList();
        List<Sample> samples = messages(p, "sample").stream().map(s -> new Sample(longs(s, "location_id"), longs(s, "value"),
                messages(s, "label").stream().map(l -> new LabelPair(num(l, "key"), num(l, "str"), num(l, "num"))).toList())).toList();
        List<Mapping> mappings = messages(p, "mapping").stream().map(m -> new Mapping(num(m, "id"), num(m, "filename"),
                num(m, "build_id"), (Boolean) m.getField(m.getDescriptorForType().findFieldByName("has_functions")))).toList();
        List<Location> locations = messages(p, "location").stream().map(l -> new Location(num(l, "id"), num(l, "mapping_id"),
                messages(l, "line").stream().map(n -> new Line(num(n, "function_id"), num(n, "line"))).toList())).toList();
        List<Function> functions = messages(p, "function").stream().map(f -> new Function(num(f, "id"), num(f, "name"),
                num(f, "system_name"), num(f, "filename"))).toList();
        List<String> strings = new ArrayList<>();
        for (Object s : (List<?>) p.getField(PROFILE.findFieldByName("string_table"))) {
            strings.add((String) s);
        }
        Descriptors.FieldDescriptor periodType = PROFILE.findFieldByName("period_type");
        return new PprofReader(types, samples, mappings, locations, functions, strings, num(p, "time_nanos"), num(p, "duration_nanos"),
                p.hasField(periodType) ? valueType((DynamicMessage) p.getField(periodType)) : null, num(p, "period"), raw.length);
    }

    /** The size of the profile as protobuf encodes it again (what the server counts against its limits). */
    public static int serializedSize(byte[] raw) throws InvalidProtocolBufferException {
        return DynamicMessage.parseFrom(PROFILE, raw).getSerializedSize();
    }

    public String string(long index) {
        return index >= 0 && index < stringTable.size() ? stringTable.get((int) index) : null;
    }

    /** "type/unit" of each sample type. */
    public List<String> sampleTypeNames() {
        return sampleType.stream().map(t -> string(t.type()) + "/" + string(t.unit())).toList();
    }

    /** The frames of a sample by function name, innermost first. */
    public List<String> stack(Sample s) {
        Map<Long, Location> locations = new HashMap<>();
        location.forEach(l -> locations.put(l.id(), l));
        Map<Long, Function> functions = new HashMap<>();
        function.forEach(f -> functions.put(f.id(), f));
        List<String> names = new ArrayList<>();
        for (long id : s.locationId()) {
            Location l = locations.get(id);
            for (Line line : l == null ? List.<Line>of() : l.line()) {
                Function f = functions.get(line.functionId());
                names.add(f == null ? null : string(f.name()));
            }
        }
        return names;
    }

    /** The sum of one sample type over all samples. */
    public long total(String type) {
        return totalWith(type, null);
    }

    /** The sum of one sample type over the samples with a frame whose name contains {@code function} (all when null). */
    public long totalWith(String type, String function) {
        int i = -1;
        for (int t = 0; t < sampleType.size(); t++) {
            if (type.equals(string(sampleType.get(t).type()))) {
                i = t;
            }
        }
        if (i < 0) {
            return 0;
        }
        long sum = 0;
        for (Sample s : sample) {
            if (function == null || stack(s).stream().anyMatch(n -> n != null && n.contains(function))) {
                sum += s.value().get(i);
            }
        }
        return sum;
    }

    private static ValueType valueType(DynamicMessage m) {
        return new ValueType(num(m, "type"), num(m, "unit"));
    }

    private static long num(DynamicMessage m, String name) {
        Object v = m.getField(m.getDescriptorForType().findFieldByName(name));
        return v instanceof Long l ? l : v instanceof Integer n ? n : 0;
    }

    private static List<Long> longs(DynamicMessage m, String name) {
        List<Long> out = new ArrayList<>();
        for (Object v : (List<?>) m.getField(m.getDescriptorForType().findFieldByName(name))) {
            out.add((Long) v);
        }
        return out;
    }

    private static List<DynamicMessage> messages(DynamicMessage m, String name) {
        List<DynamicMessage> out = new ArrayList<>();
        for (Object v : (List<?>) m.getField(m.getDescriptorForType().findFieldByName(name))) {
            out.add((DynamicMessage) v);
        }
        return out;
    }

    private static DescriptorProto message(String name, FieldDescriptorProto... fields) {
        DescriptorProto.Builder b = DescriptorProto.newBuilder().setName(name);
        for (FieldDescriptorProto f : fields) {
            b.addField(f);
        }
        return b.build();
    }

    private static FieldDescriptorProto field(String name, int number, Type type) {
        return field(name, number, type, Label.LABEL_OPTIONAL);
    }

    private static FieldDescriptorProto field(String name, int number, Type type, Label label) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type).setLabel(label).build();
    }

    private static FieldDescriptorProto repeated(String name, int number, String message) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(Type.TYPE_MESSAGE)
                .setLabel(Label.LABEL_REPEATED).setTypeName("." + PACKAGE + "." + message).build();
    }

    private static FieldDescriptorProto single(String name, int number, String message) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(Type.TYPE_MESSAGE)
                .setLabel(Label.LABEL_OPTIONAL).setTypeName("." + PACKAGE + "." + message).build();
    }
}
