import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes io.jfrebpf.agent.jfr.CatalogFields, the Java code that encodes the public fields of
 * every event of the catalog (io.jfrebpf.events.EbpfEvents.ALL), at build time
 * (generate-sources, with the catalog's classes on the class path): one method per class that
 * reads its fields directly (getfield), so that the agent's chunk writer encodes an event
 * without reflection, whose accessors are method handles that the JIT inlines as large trees
 * per event type. The classes stay the one schema: the agent's Metadata takes the same fields
 * in the same order from them and refuses to start when they differ from what was generated
 * (a catalog other than the one built with); CatalogFieldsTest holds the generated encoding to
 * a reflective one of the same fields.
 *
 * <p>How each Java type is encoded is the chunk format's (EventEncoder): String as a key of the
 * chunk's string pool (null and empty inline), long, int, short and char as varints of their
 * unsigned bit patterns, boolean and byte as a byte, float and double raw big endian. A field of
 * another type, or one the agent's package cannot read, fails the build here.
 *
 * <p>Usage: java CatalogFieldsSource.java (catalog classes on the class path) OUTPUT_FILE
 */
public class CatalogFieldsSource {
    private static final String HEADER = "// written at build time by agent/gen/CatalogFieldsSource.java from io.jfrebpf.events.EbpfEvents.ALL; not edited by hand\n";

    public static void main(String[] args) throws Exception {
        @SuppressWarnings("unchecked")
        List<Class<?>> all = (List<Class<?>>) Class.forName("io.jfrebpf.events.EbpfEvents").getField("ALL").get(null);
        String source = source(all);
        Path file = Path.of(args[0]);
        Files.createDirectories(file.getParent());
        byte[] bytes = source.getBytes(StandardCharsets.UTF_8);
        if (!Files.exists(file) || !Arrays.equals(Files.readAllBytes(file), bytes)) {
            Files.write(file, bytes);
        }
        System.out.println("agent: encoders of " + all.size() + " events written to " + file);
    }

    static String source(List<Class<?>> all) throws IOException {
        StringBuilder out = new StringBuilder(HEADER);
        out.append("package io.jfrebpf.agent.jfr;\n\n");
        out.append("/**\n");
        out.append(" * The public fields of each catalog class, in the order they are encoded (that of\n");
        out.append(" * {@code getDeclaredFields} when the agent was built), and the code that encodes them: one\n");
        out.append(" * method per class that reads them directly. {@link Metadata} declares the same fields in the\n");
        out.append(" * same order and checks them against {@link #FIELDS}.\n");
        out.append(" */\n");
        out.append("final class CatalogFields {\n");
        out.append("    private CatalogFields() {\n    }\n\n");
        out.append("    /** The catalog classes; an index into this is what {@link #encode} takes. */\n");
        out.append("    static final Class<?>[] CLASSES = {\n");
        for (Class<?> c : all) {
            out.append("            ").append(c.getName()).append(".class,\n");
        }
        out.append("    };\n\n");
        List<List<Field>> fieldsOf = new ArrayList<>();
        for (Class<?> c : all) {
            if (!Modifier.isPublic(c.getModifiers())) {
                throw new IOException(c.getName() + " is not public: the agent's encoder cannot read it");
            }
            fieldsOf.add(publicFields(c));
        }
        out.append("    /** Per class of {@link #CLASSES}, the fields {@link #encode} writes, in order: name and Java type. */\n");
        out.append("    static final String[][] FIELDS = {\n");
        for (List<Field> fields : fieldsOf) {
            out.append("            {");
            for (int i = 0; i < fields.size(); i++) {
                Field f = fields.get(i);
                out.append(i == 0 ? "" : ", ").append('"').append(f.getName()).append(' ').append(f.getType().getName()).append('"');
            }
            out.append("},\n");
        }
        out.append("    };\n\n");
        out.append("    /** Writes the fields of an event of {@code CLASSES[type]}; its strings go into {@code pools}. */\n");
        out.append("    static void encode(int type, io.jfrebpf.events.EbpfEvent event, EventEncoder out, ChunkPools pools) {\n");
        out.append("        switch (type) {\n");
        for (int i = 0; i < all.size(); i++) {
            out.append("            case ").append(i).append(":\n");
            out.append("                fields((").append(all.get(i).getName()).append(") event, out, pools);\n");
            out.append("                return;\n");
        }
        out.append("            default:\n");
        out.append("                throw new IllegalArgumentException(\"no catalog type \".concat(Integer.toString(type)));\n");
        out.append("        }\n");
        out.append("    }\n");
        for (int i = 0; i < all.size(); i++) {
            out.append("\n    private static void fields(").append(all.get(i).getName()).append(" e, EventEncoder out, ChunkPools pools) {\n");
            for (Field f : fieldsOf.get(i)) {
                out.append("        ").append(statement(f)).append('\n');
            }
            out.append("    }\n");
        }
        out.append("}\n");
        return out.toString();
    }

    /** The public instance fields of a class, as Metadata takes them. */
    private static List<Field> publicFields(Class<?> c) {
        List<Field> fields = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) {
            if (Modifier.isPublic(f.getModifiers()) && !Modifier.isStatic(f.getModifiers())) {
                fields.add(f);
            }
        }
        return fields;
    }

    private static String statement(Field f) throws IOException {
        String v = "e." + f.getName();
        Class<?> t = f.getType();
        if (t == String.class) {
            return "pools.string(out, " + v + ");";
        } else if (t == long.class) {
            return "out.varLong(" + v + ");";
        } else if (t == int.class) {
            return "out.varInt(" + v + ");";
        } else if (t == boolean.class) {
            return "out.rawByte(" + v + " ? 1 : 0);";
        } else if (t == double.class) {
            return "out.rawLong(Double.doubleToLongBits(" + v + "));";
        } else if (t == float.class) {
            return "out.rawInt(Float.floatToIntBits(" + v + "));";
        } else if (t == short.class || t == char.class) {
            return "out.varLong(" + v + " & 0xffffL);";
        } else if (t == byte.class) {
            return "out.rawByte(" + v + ");";
        }
        throw new IOException(f.getDeclaringClass().getName() + "." + f.getName() + " has a type JFR events cannot carry: " + t.getName());
    }
}
