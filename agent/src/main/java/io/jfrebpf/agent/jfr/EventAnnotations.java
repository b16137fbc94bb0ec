package io.jfrebpf.agent.jfr;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.Annotation;
import java.lang.classfile.AnnotationElement;
import java.lang.classfile.AnnotationValue;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.FieldModel;
import java.lang.classfile.attribute.RuntimeVisibleAnnotationsAttribute;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The runtime-visible annotations of one event class and of its fields, read from the class
 * file's {@code RuntimeVisibleAnnotations} attributes. {@link Class#getAnnotation} would spin a
 * proxy class per annotation type and parse every annotation through reflection (~40 ms of the
 * agent's start-up for the catalog); the values the metadata needs are plain strings and
 * booleans. An element the class file leaves out has its annotation's default, which the
 * caller supplies.
 */
final class EventAnnotations {
    /** Element values by element name, per annotation descriptor (e.g. {@code Ljdk/jfr/Name;}). */
    private final Map<String, Map<String, Object>> onClass;
    private final Map<String, Map<String, Map<String, Object>>> onFields;

    private EventAnnotations(Map<String, Map<String, Object>> onClass, Map<String, Map<String, Map<String, Object>>> onFields) {
        this.onClass = onClass;
        this.onFields = onFields;
    }

    static EventAnnotations of(Class<?> c) {
        String resource = c.getName().replace('.', '/').concat(".class");
        ClassLoader loader = c.getClassLoader();
        byte[] bytes;
        try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream(resource) : loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no class file of ".concat(c.getName()));
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the class file of ".concat(c.getName()), e);
        }
        ClassModel model = ClassFile.of().parse(bytes);
        Map<String, Map<String, Map<String, Object>>> fields = new HashMap<>();
        for (FieldModel f : model.fields()) {
            fields.put(f.fieldName().stringValue(), annotations(f.findAttribute(Attributes.runtimeVisibleAnnotations())));
        }
        return new EventAnnotations(annotations(model.findAttribute(Attributes.runtimeVisibleAnnotations())), fields);
    }

    private static Map<String, Map<String, Object>> annotations(Optional<RuntimeVisibleAnnotationsAttribute> attribute) {
        Map<String, Map<String, Object>> byType = new HashMap<>();
        if (attribute.isEmpty()) {
            return byType;
        }
        for (Annotation a : attribute.get().annotations()) {
            Map<String, Object> elements = new HashMap<>();
            for (AnnotationElement e : a.elements()) {
                elements.put(e.name().stringValue(), value(e.value()));
            }
            byType.put(a.className().stringValue(), elements);
        }
        return byType;
    }

    /** A string, a boolean or a String[]: what the JFR annotations of the catalog hold. */
    private static Object value(AnnotationValue v) {
        if (v instanceof AnnotationValue.OfString s) {
            return s.stringValue();
        } else if (v instanceof AnnotationValue.OfBoolean b) {
            return b.booleanValue();
        } else if (v instanceof AnnotationValue.OfArray array) {
            List<String> strings = new ArrayList<>();
            for (AnnotationValue e : array.values()) {
                if (e instanceof AnnotationValue.OfString s) {
                    strings.add(s.stringValue());
                }
            }
            return strings.toArray(new String[0]);
        }
        return null;
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
