package io.jfrebpf.agent.jfr;

import io.jfrebpf.events.EbpfEvent;
import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Frequency;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.Percentage;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import jdk.jfr.Timestamp;
import jdk.jfr.Unsigned;

/**
 * The JFR types of our chunks and the bytes of their metadata event, computed once per writer
 * from the catalog classes of {@code jfr-events} ({@code @Name}, {@code @Label},
 * {@code @Description}, {@code @Category}, the content-type annotations, {@code @StackTrace(false)},
 * public fields) and reused for every chunk.
 *
 * <p>Each event has startTime ({@code @Timestamp("TICKS")}, first, as the JDK's parser wants),
 * duration, eventThread and, unless {@code @StackTrace(false)}, stackTrace, then its own fields.
 * The other types are those of the JVM's own chunks, with the same names and fields, so that
 * readers build their thread, stack and frame objects from them: {@code java.lang.Thread},
 * {@code jdk.types.StackTrace}, {@code jdk.types.StackFrame} (inline in the stack trace, not a
 * pool: the JDK's parser expects it so), {@code jdk.types.Method}, {@code java.lang.Class} and
 * {@code jdk.types.FrameType} (a simple type: its value is its description).
 *
 * <p>Every id, primitives and {@code java.lang.String} included, is {@link #TYPE_ID_BASE} or
 * above, never one of the JVM's (its ids are below 4,000 on JDK 25): readers key constant pools
 * and event counts by type id across the chunks of a file ({@code jfr summary} names counts
 * by the first name seen for an id; the JDK's parser keeps one constant lookup per type id), so
 * an id shared with the JVM's chunks would mix their pools with ours.
 */
final class Metadata {
    static final long TYPE_ID_BASE = 1L << 20;
    static final long BOOLEAN = TYPE_ID_BASE + 1;
    static final long CHAR = TYPE_ID_BASE + 2;
    static final long FLOAT = TYPE_ID_BASE + 3;
    static final long DOUBLE = TYPE_ID_BASE + 4;
    static final long BYTE = TYPE_ID_BASE + 5;
    static final long SHORT = TYPE_ID_BASE + 6;
    static final long INT = TYPE_ID_BASE + 7;
    static final long LONG = TYPE_ID_BASE + 8;
    static final long STRING = TYPE_ID_BASE + 9;
    static final long THREAD = TYPE_ID_BASE + 10;
    static final long CLASS = TYPE_ID_BASE + 11;
    static final long METHOD = TYPE_ID_BASE + 12;
    static final long FRAME_TYPE = TYPE_ID_BASE + 13;
    static final long STACK_FRAME = TYPE_ID_BASE + 14;
    static final long STACK_TRACE = TYPE_ID_BASE + 15;
    static final long LABEL = TYPE_ID_BASE + 32;
    static final long DESCRIPTION = TYPE_ID_BASE + 33;
    static final long CATEGORY = TYPE_ID_BASE + 34;
    static final long CONTENT_TYPE = TYPE_ID_BASE + 35;
    static final long TIMESTAMP = TYPE_ID_BASE + 36;
    static final long TIMESPAN = TYPE_ID_BASE + 37;
    static final long DATA_AMOUNT = TYPE_ID_BASE + 38;
    static final long UNSIGNED = TYPE_ID_BASE + 39;
    static final long MEMORY_ADDRESS = TYPE_ID_BASE + 40;
    static final long PERCENTAGE = TYPE_ID_BASE + 41;
    static final long FREQUENCY = TYPE_ID_BASE + 42;
    /** Our event types: the same ids in every chunk, so tools count them as one type. */
    static final long EVENT_TYPE_ID_BASE = TYPE_ID_BASE + 4096;

    private static final String EVENT_SUPER_TYPE = "jdk.jfr.Event";
    private static final String ANNOTATION_SUPER_TYPE = "java.lang.annotation.Annotation";
    private static final String[] RESERVED_FIELDS = {"startTime", "duration", "eventThread", "stackTrace"};

    /** One catalog class as a JFR event type. */
    static final class EventType {
        final Class<?> javaClass;
        final long id;
        final boolean withStack;
        /** Its index in {@link CatalogFields#CLASSES}: what encodes its fields. */
        final int encoder;

        EventType(Class<?> javaClass, long id, boolean withStack, int encoder) {
            this.javaClass = javaClass;
            this.id = id;
            this.withStack = withStack;
            this.encoder = encoder;
        }
    }

    private final EventType[] types;
    private final byte[] body;

    private Metadata(EventType[] types, byte[] body) {
        this.types = types;
        this.body = body;
    }

    /** Reads the catalog classes (reflection, once); throws if one cannot be written as JFR. */
    static Metadata of(List<Class<? extends EbpfEvent>> classes) {
        EventType[] types = new EventType[classes.size()];
        Element metadata = new Element("metadata");
        declareBuiltins(metadata);
        for (int i = 0; i < types.length; i++) {
            types[i] = eventType(classes.get(i), EVENT_TYPE_ID_BASE + i, metadata);
        }
        Element root = new Element("root");
        root.add(metadata);
        // the time zone as the JVM's own chunks give it (jdk.jfr's MetadataDescriptor), for readers that print local times
        TimeZone zone = TimeZone.getDefault();
        long dstMillis = zone.inDaylightTime(new Date()) ? zone.getDSTSavings() : 0;
        root.add(new Element("region").attribute("locale", Locale.getDefault().toString())
                .attribute("gmtOffset", Long.toString(zone.getRawOffset())).attribute("dst", Long.toString(dstMillis)));
        return new Metadata(types, serialize(root));
    }

    /** The event type of a catalog class, or null if it is not one of this writer's. */
    EventType type(Class<?> c) {
        for (EventType t : types) {
            if (t.javaClass == c) {
                return t;
            }
        }
        return null;
    }

    /**
     * The metadata event: size (5 bytes), type 0, start, duration 0, the metadata id (one
     * varint byte, 1..127: {@link JfrFiles#merge} may set another), then types and region.
     */
    void writeEvent(EventEncoder out, long startTicks, int metadataId) {
        if (metadataId < 1 || metadataId > 127) {
            throw new IllegalArgumentException("metadata id out of 1..127");
        }
        int start = out.size();
        int sizeAt = out.reservePaddedVarInt();
        out.varLong(0);
        out.varLong(startTicks);
        out.varLong(0);
        out.rawByte(metadataId);
        out.raw(body, 0, body.length);
        out.paddedVarInt(sizeAt, out.size() - start);
    }

    /** Size in bytes of the types and region (the same for every chunk of this writer). */
    int bodySize() {
        return body.length;
    }

    private static void declareBuiltins(Element m) {
        m.add(type("boolean", BOOLEAN));
        m.add(type("char", CHAR));
        m.add(type("float", FLOAT));
        m.add(type("double", DOUBLE));
        m.add(type("byte", BYTE));
        m.add(type("short", SHORT));
        m.add(type("int", INT));
        m.add(type("long", LONG));
        m.add(type("java.lang.String", STRING));

        m.add(type("java.lang.Thread", THREAD).label("Thread")
                .add(field("osName", STRING).label("OS Thread Name"))
                .add(field("osThreadId", LONG).label("OS Thread Id"))
                .add(field("javaName", STRING).label("Java Thread Name"))
                .add(field("javaThreadId", LONG).label("Java Thread Id"))
                .add(field("virtual", BOOLEAN).label("Virtual Thread")));
        m.add(type("java.lang.Class", CLASS).label("Java Class")
                .add(field("name", STRING).label("Name"))
                .add(field("modifiers", INT).label("Access Modifiers"))
                .add(field("hidden", BOOLEAN).label("Hidden")));
        m.add(type("jdk.types.Method", METHOD).label("Java Method")
                .add(field("type", CLASS).pooled().label("Type"))
                .add(field("name", STRING).label("Name"))
                .add(field("descriptor", STRING).label("Descriptor"))
                .add(field("modifiers", INT).label("Access Modifiers"))
                .add(field("hidden", BOOLEAN).label("Hidden")));
        m.add(type("jdk.types.FrameType", FRAME_TYPE).attribute("simpleType", "true").label("Frame type")
                .add(field("description", STRING).label("Description")));
        m.add(type("jdk.types.StackFrame", STACK_FRAME)
                .add(field("method", METHOD).pooled().label("Java Method"))
                .add(field("lineNumber", INT).label("Line Number"))
                .add(field("bytecodeIndex", INT).label("Bytecode Index"))
                .add(field("type", FRAME_TYPE).pooled().label("Frame Type")));
        m.add(type("jdk.types.StackTrace", STACK_TRACE).label("Stacktrace")
                .add(field("truncated", BOOLEAN).label("Truncated"))
                .add(field("frames", STACK_FRAME).attribute("dimension", "1").label("Stack Frames")));

        m.add(annotationType("jdk.jfr.Label", LABEL, false).add(field("value", STRING)));
        m.add(annotationType("jdk.jfr.Description", DESCRIPTION, false).add(field("value", STRING)));
        m.add(annotationType("jdk.jfr.Category", CATEGORY, false).add(field("value", STRING).attribute("dimension", "1")));
        m.add(annotationType("jdk.jfr.ContentType", CONTENT_TYPE, false));
        m.add(annotationType("jdk.jfr.Timestamp", TIMESTAMP, true).add(field("value", STRING)));
        m.add(annotationType("jdk.jfr.Timespan", TIMESPAN, true).add(field("value", STRING)));
        m.add(annotationType("jdk.jfr.DataAmount", DATA_AMOUNT, true).add(field("value", STRING)));
        m.add(annotationType("jdk.jfr.Unsigned", UNSIGNED, true));
        m.add(annotationType("jdk.jfr.MemoryAddress", MEMORY_ADDRESS, true));
        m.add(annotationType("jdk.jfr.Percentage", PERCENTAGE, true));
        m.add(annotationType("jdk.jfr.Frequency", FREQUENCY, true));
    }

    private static EventType eventType(Class<? extends EbpfEvent> c, long id, Element metadata) {
        EventAnnotations annotations = EventAnnotations.of(c);
        String name = (String) annotations.classValue(Name.class, null, null);
        if (name == null) {
            throw new IllegalArgumentException(c.getName().concat(" has no @Name"));
        }
        boolean withStack = (Boolean) annotations.classValue(StackTrace.class, Boolean.TRUE, Boolean.TRUE);
        Element type = type(name, id).attribute("superType", EVENT_SUPER_TYPE);
        type.add(field("startTime", LONG).annotation(TIMESTAMP, "TICKS").label("Start Time"));
        type.add(field("duration", LONG).annotation(TIMESPAN, "TICKS").label("Duration"));
        type.add(field("eventThread", THREAD).pooled().label("Event Thread"));
        if (withStack) {
            type.add(field("stackTrace", STACK_TRACE).pooled().label("Stack Trace"));
        }
        int encoder = encoderOf(c);
        List<String> declared = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) {
            if (!Modifier.isPublic(f.getModifiers()) || Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            for (String reserved : RESERVED_FIELDS) {
                if (reserved.equals(f.getName())) {
                    throw new IllegalArgumentException(describe(f).concat(" has a name JFR gives every event"));
                }
            }
            declared.add(f.getName().concat(" ").concat(f.getType().getName()));
            Element field = field(f.getName(), typeIdOf(f));
            annotate(field, f, annotations);
            type.add(field);
        }
        // the fields as declared here (names, types, order), the ones CatalogFields encodes: else the events would not match their metadata
        if (!declared.equals(List.of(CatalogFields.FIELDS[encoder]))) {
            throw new IllegalArgumentException(new StringBuilder(c.getName()).append(" has the fields ").append(declared)
                    .append(", the agent was built to encode ").append(List.of(CatalogFields.FIELDS[encoder])).toString());
        }
        String l = (String) annotations.classValue(Label.class, null, null);
        if (l != null) {
            type.label(l);
        }
        String d = (String) annotations.classValue(Description.class, null, null);
        if (d != null) {
            type.annotation(DESCRIPTION, d);
        }
        String[] values = (String[]) annotations.classValue(Category.class, null, new String[0]);
        if (values != null) {
            Element a = new Element("annotation").attribute("class", Long.toString(CATEGORY));
            for (int i = 0; i < values.length; i++) {
                a.attribute(new StringBuilder("value-").append(i).toString(), values[i]);
            }
            type.add(a);
        }
        metadata.add(type);
        return new EventType(c, id, withStack, encoder);
    }

    /** Where {@link CatalogFields} encodes the class; throws if it is not of the catalog the agent was built with. */
    private static int encoderOf(Class<?> c) {
        for (int i = 0; i < CatalogFields.CLASSES.length; i++) {
            if (CatalogFields.CLASSES[i] == c) {
                return i;
            }
        }
        throw new IllegalArgumentException(c.getName().concat(" is not of the catalog the agent was built with"));
    }

    private static void annotate(Element field, Field f, EventAnnotations annotations) {
        String name = f.getName();
        String l = (String) annotations.fieldValue(name, Label.class, null, null);
        if (l != null) {
            field.label(l);
        }
        String d = (String) annotations.fieldValue(name, Description.class, null, null);
        if (d != null) {
            field.annotation(DESCRIPTION, d);
        }
        String t = (String) annotations.fieldValue(name, Timespan.class, null, Timespan.NANOSECONDS);
        if (t != null) {
            field.annotation(TIMESPAN, t);
        }
        String ts = (String) annotations.fieldValue(name, Timestamp.class, null, Timestamp.MILLISECONDS_SINCE_EPOCH);
        if (ts != null) {
            field.annotation(TIMESTAMP, ts);
        }
        String a = (String) annotations.fieldValue(name, DataAmount.class, null, DataAmount.BYTES);
        if (a != null) {
            field.annotation(DATA_AMOUNT, a);
        }
        marker(field, name, annotations, Unsigned.class, UNSIGNED);
        marker(field, name, annotations, MemoryAddress.class, MEMORY_ADDRESS);
        marker(field, name, annotations, Percentage.class, PERCENTAGE);
        marker(field, name, annotations, Frequency.class, FREQUENCY);
    }

    private static void marker(Element field, String name, EventAnnotations annotations, Class<? extends Annotation> annotation,
            long id) {
        if (annotations.onField(name, annotation)) {
            field.add(new Element("annotation").attribute("class", Long.toString(id)));
        }
    }

    /** The JFR type of a field (how {@link CatalogFields} encodes it is that type's). */
    private static long typeIdOf(Field f) {
        Class<?> t = f.getType();
        if (t == String.class) {
            return STRING;
        } else if (t == long.class) {
            return LONG;
        } else if (t == int.class) {
            return INT;
        } else if (t == boolean.class) {
            return BOOLEAN;
        } else if (t == double.class) {
            return DOUBLE;
        } else if (t == float.class) {
            return FLOAT;
        } else if (t == short.class) {
            return SHORT;
        } else if (t == byte.class) {
            return BYTE;
        } else if (t == char.class) {
            return CHAR;
        }
        throw new IllegalArgumentException(describe(f).concat(" has a type JFR events cannot carry"));
    }

    private static String describe(Field f) {
        return new StringBuilder("field ").append(f.getDeclaringClass().getName()).append('.').append(f.getName()).toString();
    }

    private static Element type(String name, long id) {
        return new Element("class").attribute("name", name).attribute("id", Long.toString(id));
    }

    private static Element annotationType(String name, long id, boolean contentType) {
        Element e = type(name, id).attribute("superType", ANNOTATION_SUPER_TYPE);
        if (contentType) {
            e.add(new Element("annotation").attribute("class", Long.toString(CONTENT_TYPE)));
        }
        return e;
    }

    private static Element field(String name, long typeId) {
        return new Element("field").attribute("name", name).attribute("class", Long.toString(typeId));
    }

    /** The string table (each name and value once), then the element tree by string index. */
    private static byte[] serialize(Element root) {
        Map<String, Integer> strings = new LinkedHashMap<>();
        root.collect(strings);
        EventEncoder out = new EventEncoder(16 * 1024);
        out.varInt(strings.size());
        for (String s : strings.keySet()) {
            out.string(s);
        }
        root.write(out, strings);
        return out.toByteArray();
    }

    /** An element of the metadata tree: name, attributes, children. */
    private static final class Element {
        private final String name;
        private final List<String> attributes = new ArrayList<>();
        private final List<Element> children = new ArrayList<>();

        Element(String name) {
            this.name = name;
        }

        Element attribute(String key, String value) {
            attributes.add(key);
            attributes.add(value);
            return this;
        }

        Element add(Element child) {
            children.add(child);
            return this;
        }

        Element pooled() {
            return attribute("constantPool", "true");
        }

        Element label(String value) {
            return annotation(LABEL, value);
        }

        Element annotation(long typeId, String value) {
            return add(new Element("annotation").attribute("class", Long.toString(typeId)).attribute("value", value));
        }

        void collect(Map<String, Integer> strings) {
            intern(strings, name);
            for (String s : attributes) {
                intern(strings, s);
            }
            for (Element c : children) {
                c.collect(strings);
            }
        }

        private static void intern(Map<String, Integer> strings, String s) {
            if (!strings.containsKey(s)) {
                strings.put(s, strings.size());
            }
        }

        void write(EventEncoder out, Map<String, Integer> strings) {
            out.varInt(strings.get(name));
            out.varInt(attributes.size() / 2);
            for (String s : attributes) {
                out.varInt(strings.get(s));
            }
            out.varInt(children.size());
            for (Element c : children) {
                c.write(out, strings);
            }
        }
    }
}
