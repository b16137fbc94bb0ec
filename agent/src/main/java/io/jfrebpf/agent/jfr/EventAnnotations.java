package io.jfrebpf.agent.jfr;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JFR annotations of one event class and of its fields, as the catalog's build wrote them
 * (jfr-events/gen/EventAnnotationTable.java: {@code io/jfrebpf/events/annotations.tsv}, read once).
 * {@link Class#getAnnotation} would spin a proxy class per annotation type and parse every
 * annotation through reflection, and parsing the class files pulls the ClassFile API into the JIT
 * (~230 methods compiled at start-up); the values the metadata needs are plain strings and
 * booleans, known when the catalog is built.
 */
final class EventAnnotations {
    static final String TABLE = "/io/jfrebpf/events/annotations.tsv";

    /** Element values by element name, per annotation descriptor (e.g. {@code Ljdk/jfr/Name;}). */
    private final Map<String, Map<String, Object>> onClass;
    private final Map<String, Map<String, Map<String, Object>>> onFields;

    private EventAnnotations(Map<String, Map<String, Object>> onClass, Map<String, Map<String, Map<String, Object>>> onFields) {
        this.onClass = onClass;
        this.onFields = onFields;
    }

    static EventAnnotations of(Class<?> c) {
        EventAnnotations a = Table.BY_CLASS.get(c.getName());
        if (a == null) {
            throw new IllegalArgumentException(c.getName().concat(" is not in the catalog's annotation table ").concat(TABLE));
        }
        return a;
    }

    /** The table, parsed at first use. */
    private static final class Table {
        static final Map<String, EventAnnotations> BY_CLASS = read();

        private static Map<String, EventAnnotations> read() {
            String text;
            try (InputStream in = EventAnnotations.class.getResourceAsStream(TABLE)) {
                if (in == null) {
                    throw new IllegalStateException("the agent jar has no " + TABLE + " (built without the event catalog's table)");
                }
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + TABLE, e);
            }
            Map<String, EventAnnotations> byClass = new HashMap<>();
            int at = 0;
            while (at < text.length()) {
                int end = text.indexOf('\n', at);
                if (end < 0) {
                    end = text.length();
                }
                if (end > at && text.charAt(at) != '#') {
                    line(byClass, fields(text, at, end));
                }
                at = end + 1;
            }
            return byClass;
        }

        /** Adds one line: class, field ("" on the class), descriptor, kind, values. */
        private static void line(Map<String, EventAnnotations> byClass, List<String> f) {
            if (f.size() < 4) {
                throw new IllegalStateException(TABLE + ": a line of " + f.size() + " fields: " + f);
            }
            EventAnnotations a = byClass.computeIfAbsent(f.get(0), k -> new EventAnnotations(new HashMap<>(), new HashMap<>()));
            Map<String, Map<String, Object>> on = f.get(1).isEmpty() ? a.onClass : a.onFields.computeIfAbsent(f.get(1), k -> new HashMap<>());
            Map<String, Object> elements = new HashMap<>();
            switch (f.get(3)) {
                case "-" -> { }
                case "s" -> elements.put("value", f.get(4));
                case "b" -> elements.put("value", Boolean.valueOf(f.get(4)));
                case "a" -> elements.put("value", f.subList(4, f.size()).toArray(new String[0]));
                default -> throw new IllegalStateException(TABLE + ": a value of kind " + f.get(3) + ": " + f);
            }
            on.put(f.get(2), elements);
        }

        /** The tab-separated fields of text[from, to), unescaped. */
        private static List<String> fields(String text, int from, int to) {
            List<String> out = new ArrayList<>();
            StringBuilder b = new StringBuilder();
            for (int i = from; i < to; i++) {
                char c = text.charAt(i);
                if (c == '\t') {
                    out.add(b.toString());
                    b.setLength(0);
                } else if (c == '\\' && i + 1 < to) {
                    char n = text.charAt(++i);
                    b.append(n == 't' ? '\t' : n == 'n' ? '\n' : n);
                } else {
                    b.append(c);
                }
            }
            out.add(b.toString());
            return out;
        }
    }

    /** The {@code value} of the class's annotation, {@code absent} without the annotation, {@code fallback} without the element. */
    Object classValue(Class<? extends java.lang.annotation.Annotation> type, Object absent, Object fallback) {
        return value(onClass, type, absent, fallback);
    }

    /** The {@code value} of a field's annotation, as {@link #classValue}. */
    Object fieldValue(String field, Class<? extends java.lang.annotation.Annotation> type, Object absent, Object fallback) {
        Map<String, Map<String, Object>> on = onFields.get(field);
        return on == null ? absent : value(on, type, absent, fallback);
    }

    /** Whether a field carries the annotation. */
    boolean onField(String field, Class<? extends java.lang.annotation.Annotation> type) {
        Map<String, Map<String, Object>> on = onFields.get(field);
        return on != null && on.containsKey(descriptor(type));
    }

    private static Object value(Map<String, Map<String, Object>> on, Class<? extends java.lang.annotation.Annotation> type,
            Object absent, Object fallback) {
        Map<String, Object> elements = on.get(descriptor(type));
        if (elements == null) {
            return absent;
        }
        Object v = elements.get("value");
        return v == null ? fallback : v;
    }

    private static String descriptor(Class<?> type) {
        return new StringBuilder(type.getName().length() + 2).append('L').append(type.getName().replace('.', '/')).append(';')
                .toString();
    }
}
