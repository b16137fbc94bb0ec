import java.io.IOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the JFR annotations of every event of the catalog (io.jfrebpf.events.EbpfEvents.ALL) into
 * one text resource beside the classes, at build time (process-classes): the agent builds its
 * chunks' metadata from this table instead of parsing class files or spinning annotation proxies
 * at start-up. The classes stay the one schema; EventAnnotationsTest holds the table to what
 * reflection says of them.
 *
 * <p>One line per annotation: class, field (empty: on the class), the annotation's descriptor,
 * then the kind of its {@code value} ({@code -} none, {@code s} string, {@code b} boolean,
 * {@code a} strings) and the values, tab-separated, with {@code \\}, tab and newline escaped.
 *
 * <p>Usage: java EventAnnotationTable.java (with target/classes on the class path) OUTPUT_FILE
 */
public class EventAnnotationTable {
    public static void main(String[] args) throws Exception {
        @SuppressWarnings("unchecked")
        List<Class<?>> all = (List<Class<?>>) Class.forName("io.jfrebpf.events.EbpfEvents").getField("ALL").get(null);
        StringBuilder out = new StringBuilder("# written at build time by jfr-events/gen/EventAnnotationTable.java\n");
        for (Class<?> c : all) {
            lines(out, c.getName(), "", c);
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isPublic(f.getModifiers()) && !Modifier.isStatic(f.getModifiers())) {
                    lines(out, c.getName(), f.getName(), f);
                }
            }
        }
        Path file = Path.of(args[0]);
        Files.createDirectories(file.getParent());
        byte[] bytes = out.toString().getBytes(StandardCharsets.UTF_8);
        if (!Files.exists(file) || !java.util.Arrays.equals(Files.readAllBytes(file), bytes)) {
            Files.write(file, bytes);
        }
        System.out.println("jfr-events: annotations of " + all.size() + " events written to " + file);
    }

    private static void lines(StringBuilder out, String type, String field, AnnotatedElement on) throws Exception {
        for (Annotation a : on.getAnnotations()) {
            Class<? extends Annotation> t = a.annotationType();
            if (!t.getName().startsWith("jdk.jfr.")) {
                continue;
            }
            out.append(type).append('\t').append(field).append('\t').append('L').append(t.getName().replace('.', '/')).append(';');
            Method value;
            try {
                value = t.getMethod("value");
            } catch (NoSuchMethodException e) {
                out.append("\t-\n");
                continue;
            }
            Object v = value.invoke(a);
            if (v instanceof String s) {
                out.append("\ts\t").append(escape(s));
            } else if (v instanceof Boolean b) {
                out.append("\tb\t").append(b);
            } else if (v instanceof String[] strings) {
                out.append("\ta");
                for (String s : strings) {
                    out.append('\t').append(escape(s));
                }
            } else {
                throw new IOException(type + "." + field + ": @" + t.getName() + " has a value of a kind the agent does not read: " + v);
            }
            out.append('\n');
        }
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n");
    }
}
