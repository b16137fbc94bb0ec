// SPDX-License-Identifier: Apache-2.0
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes the Java side of every layout and name the BPF objects share with the agent, from the
 * objects and headers themselves, so that a field or a name is written once, in C:
 *
 * <ul>
 * <li>per header {@code x.h} a class {@code XLayout}: each of its structs (a nested class with
 *     its {@code SIZE} and each member's offset and size, from the objects' BTF, as clang laid
 *     them out) and each of its integer {@code #define}s (evaluated by the host C compiler);
 * <li>per object {@code x.bpf.o} a class {@code XObject}: the names of its programs (from the
 *     ELF symbols of its program sections), maps and {@code .rodata} tunables (from its BTF), as
 *     a libbpf skeleton would give them: a misspelt name is a compile error;
 * <li>per shared kernel-side header {@code x.bpf.h} that defines any, a class {@code XNames}: the
 *     programs, maps and tunables it gives every object that includes it (from the BTF of the
 *     header compiled alone, less what the {@code .bpf.h} headers it includes give), and which
 *     objects those are: the names the agent uses with whichever of them it has;
 * <li>{@code BpfNames}, the list of those classes, for the tests that hold them against
 *     libbpf's view of the objects.
 * </ul>
 *
 * Run by build.sh with the build's JDK:
 * {@code java Skeletons.java objects-dir headers-dir out-dir cc header-objects-dir}.
 * Any surprise (a struct laid out differently in two objects, a tool failing) fails the build.
 */
public final class Skeletons {
    private static final String PACKAGE = "io.jfrebpf.bpf";
    private static final Pattern STRUCT_DECL = Pattern.compile("(?m)^struct ([a-z_0-9]+) \\{");
    private static final Pattern DEFINE = Pattern.compile("(?m)^#define ([A-Z][A-Z_0-9]*)[ \\t]+(.+)$");
    private static final Pattern BTF_TYPE = Pattern.compile("^\\[(\\d+)\\] ([A-Z_]+) '([^']*)'(.*)$");
    private static final Pattern BTF_MEMBER = Pattern.compile("^\\t'([^']*)' type_id=(\\d+) bits_offset=(\\d+)");
    private static final Pattern BTF_VAR = Pattern.compile("^\\ttype_id=\\d+ offset=\\d+ size=\\d+ \\(VAR '([^']+)'\\)");
    private static final Pattern ATTR = Pattern.compile("(\\w+)=(\\d+)");
    private static final Pattern INCLUDE_SHARED = Pattern.compile("(?m)^#include \"([a-z_0-9]+)\\.bpf\\.h\"");

    record Member(String name, long offset, long size) {
    }

    record Struct(String name, long size, List<Member> members) {
    }

    /** The names a compiled object (or a header compiled alone) gives: programs, maps, .rodata tunables. */
    record Names(List<String> programs, List<String> maps, List<String> rodata) {
        Names minus(Names other) {
            return new Names(without(programs, other.programs), without(maps, other.maps), without(rodata, other.rodata));
        }

        boolean containsAll(Names other) {
            return programs.containsAll(other.programs) && maps.containsAll(other.maps) && rodata.containsAll(other.rodata);
        }

        boolean isEmpty() {
            return programs.isEmpty() && maps.isEmpty() && rodata.isEmpty();
        }

        private static List<String> without(List<String> names, List<String> gone) {
            return names.stream().filter(n -> !gone.contains(n)).toList();
        }
    }

    /** One BTF type: its kind, name, attributes (size, type_id, nr_elems ...) and members. */
    record Type(String kind, String name, Map<String, Long> attributes, List<long[]> members, List<String> memberNames) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: java Skeletons.java objects-dir headers-dir out-dir cc header-objects-dir");
            System.exit(2);
        }
        Path objects = Path.of(args[0]);
        Path headers = Path.of(args[1]);
        Path out = Path.of(args[2]).resolve(PACKAGE.replace('.', '/'));
        Files.createDirectories(out);
        try (var old = Files.list(out)) {
            for (Path p : old.filter(p -> p.toString().endsWith(".java")).toList()) {
                Files.delete(p); // a header or object gone leaves no class behind
            }
        }
        List<Path> headerFiles = new ArrayList<>();
        try (var list = Files.list(headers)) {
            list.filter(p -> p.toString().endsWith(".h") && !p.toString().endsWith(".bpf.h")).sorted().forEach(headerFiles::add);
        }
        List<Path> objectFiles = new ArrayList<>();
        try (var list = Files.list(objects)) {
            list.filter(p -> p.toString().endsWith(".bpf.o")).sorted().forEach(objectFiles::add);
        }
        java.util.Set<String> ours = new java.util.HashSet<>();
        for (Path h : headerFiles) {
            Matcher m = STRUCT_DECL.matcher(Files.readString(h));
            while (m.find()) {
                ours.add(m.group(1));
            }
        }
        Map<String, Struct> structs = new TreeMap<>();
        Map<String, Names> objectNames = new TreeMap<>();
        for (Path o : objectFiles) {
            Map<Integer, Type> btf = btf(o);
            for (Type t : btf.values()) {
                if (t.kind().equals("STRUCT") && ours.contains(t.name())) {
                    Struct s = struct(t, btf);
                    Struct seen = structs.putIfAbsent(s.name(), s);
                    if (seen != null && !seen.equals(s)) {
                        throw new IllegalStateException("struct " + s.name() + " differs between objects: " + seen + " / " + s);
                    }
                }
            }
            Names names = names(o, btf);
            objectNames.put(baseName(o, ".bpf.o"), names);
            writeObject(out, o, names);
        }
        List<String> shared = writeShared(out, headers, Path.of(args[4]), objectNames);
        writeIndex(out, objectNames.keySet(), shared);
        Map<String, Long> constants = constants(headerFiles, Path.of(args[2]).getParent(), args[3]);
        kernelRecursionMisses = constants.get("BPF_PROG_INFO_RECURSION_MISSES");
        for (Path h : headerFiles) {
            String text = Files.readString(h);
            List<Struct> own = new ArrayList<>();
            Matcher m = STRUCT_DECL.matcher(text);
            while (m.find()) {
                Struct s = structs.get(m.group(1));
                if (s == null) {
                    throw new IllegalStateException(h.getFileName() + ": struct " + m.group(1) + " is used by no object (not in any BTF)");
                }
                own.add(s);
            }
            Map<String, Long> defines = new LinkedHashMap<>();
            for (String name : defineNames(text)) {
                defines.put(name, constants.get(name));
            }
            writeLayout(out, h, own, defines);
        }
    }

    /** The names an object gives, from its ELF symbols and its BTF. */
    static Names names(Path object, Map<Integer, Type> btf) throws IOException, InterruptedException {
        Map<String, List<String>> sections = new LinkedHashMap<>();
        for (Type t : btf.values()) {
            if (t.kind().equals("DATASEC")) {
                sections.put(t.name(), t.memberNames());
            }
        }
        return new Names(programs(object), List.copyOf(sections.getOrDefault(".maps", List.of())),
                List.copyOf(sections.getOrDefault(".rodata", List.of())));
    }

    /**
     * One {@code XNames} class per {@code x.bpf.h} that gives names of its own: those of its
     * object compiled alone (build.sh: {@code header-objects-dir/x.bpf.h.o}) less those of the
     * {@code .bpf.h} headers it includes, each checked to be in every object whose source
     * includes it. Returns the names of the classes written.
     */
    static List<String> writeShared(Path out, Path headers, Path headerObjects, Map<String, Names> objectNames)
            throws IOException, InterruptedException {
        Map<String, List<String>> includes = new TreeMap<>(); // x.bpf.h or x.bpf.c by base name -> the .bpf.h it includes
        Map<String, List<String>> sourceIncludes = new TreeMap<>();
        try (var list = Files.list(headers)) {
            for (Path p : list.sorted().toList()) {
                String file = p.getFileName().toString();
                if (file.endsWith(".bpf.h")) {
                    includes.put(baseName(p, ".bpf.h"), sharedIncludes(Files.readString(p)));
                } else if (file.endsWith(".bpf.c")) {
                    sourceIncludes.put(baseName(p, ".bpf.c"), sharedIncludes(Files.readString(p)));
                }
            }
        }
        Map<String, Names> alone = new TreeMap<>();
        for (String header : includes.keySet()) {
            Path o = headerObjects.resolve(header + ".bpf.h.o");
            boolean hasBtf = Pattern.compile("(?m) \\.BTF ").matcher(run("readelf", "-SW", o.toString())).find();
            // no BTF at all: the header defines no global (core_fixes.bpf.h: inline helpers only)
            alone.put(header, hasBtf ? names(o, btf(o)) : new Names(List.of(), List.of(), List.of()));
        }
        List<String> written = new ArrayList<>();
        for (String header : includes.keySet()) {
            Names own = alone.get(header);
            for (String included : closure(includes.get(header), includes)) {
                own = own.minus(alone.get(included));
            }
            if (own.isEmpty()) {
                continue; // core_fixes.bpf.h: helpers only, no names
            }
            List<String> users = new ArrayList<>();
            for (Map.Entry<String, List<String>> source : sourceIncludes.entrySet()) {
                if (closure(source.getValue(), includes).contains(header) && objectNames.containsKey(source.getKey())) {
                    if (!objectNames.get(source.getKey()).containsAll(own)) {
                        throw new IllegalStateException(source.getKey() + ".bpf.o includes " + header + ".bpf.h but lacks some of "
                                + own + ": " + objectNames.get(source.getKey()));
                    }
                    users.add(source.getKey());
                }
            }
            String name = camel(header) + "Names";
            StringBuilder b = new StringBuilder();
            b.append("// Generated by bpf/gen/Skeletons.java from bpf/").append(header).append(".bpf.h: do not edit.\n");
            b.append("package ").append(PACKAGE).append(";\n\n");
            b.append("/** The names bpf/").append(header).append(".bpf.h gives every object that includes it ({@link #OBJECTS}). */\n");
            b.append("public final class ").append(name).append(" {\n");
            b.append("    private ").append(name).append("() {\n    }\n\n");
            b.append("    /** The objects that include it (io/jfrebpf/bpf/<name>.bpf.o). */\n");
            b.append("    public static final java.util.List<String> OBJECTS = java.util.List.of(");
            b.append(String.join(", ", users.stream().map(u -> "\"" + u + "\"").toList())).append(");\n");
            sections(b, own);
            b.append("}\n");
            Files.writeString(out.resolve(name + ".java"), b);
            written.add(name);
        }
        return written;
    }

    static List<String> sharedIncludes(String source) {
        List<String> names = new ArrayList<>();
        Matcher m = INCLUDE_SHARED.matcher(source);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** The .bpf.h headers reached from these, themselves included. */
    static java.util.Set<String> closure(List<String> start, Map<String, List<String>> includes) {
        java.util.Set<String> seen = new java.util.TreeSet<>();
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(start);
        while (!todo.isEmpty()) {
            String h = todo.pop();
            if (!includes.containsKey(h)) {
                throw new IllegalStateException("#include \"" + h + ".bpf.h\": no such header in bpf/");
            }
            if (seen.add(h)) {
                todo.addAll(includes.get(h));
            }
        }
        return seen;
    }

    static void writeIndex(Path out, java.util.Collection<String> objects, List<String> shared) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("// Generated by bpf/gen/Skeletons.java: do not edit.\n");
        b.append("package ").append(PACKAGE).append(";\n\n");
        b.append("/** Every class of names generated from bpf/: for the tests that hold them against libbpf's view of the objects. */\n");
        b.append("public final class BpfNames {\n");
        b.append("    private BpfNames() {\n    }\n\n");
        b.append("    /** One per object ({@code XObject}). */\n");
        b.append("    public static final java.util.List<Class<?>> OBJECTS = java.util.List.of(");
        b.append(String.join(", ", objects.stream().map(o -> camel(o) + "Object.class").toList())).append(");\n\n");
        b.append("    /** One per shared .bpf.h header that gives names ({@code XNames}). */\n");
        b.append("    public static final java.util.List<Class<?>> SHARED = java.util.List.of(");
        b.append(String.join(", ", shared.stream().map(n -> n + ".class").toList())).append(");\n");
        b.append("}\n");
        Files.writeString(out.resolve("BpfNames.java"), b);
    }

    static String baseName(Path p, String suffix) {
        String file = p.getFileName().toString();
        return file.substring(0, file.length() - suffix.length());
    }

    /** The object's BTF as bpftool prints it (raw format), by type id. */
    static Map<Integer, Type> btf(Path object) throws IOException, InterruptedException {
        String dump = run("bpftool", "btf", "dump", "file", object.toString());
        Map<Integer, Type> types = new LinkedHashMap<>();
        Type current = null;
        for (String line : dump.split("\n")) {
            Matcher t = BTF_TYPE.matcher(line);
            if (t.matches()) {
                Map<String, Long> attributes = new LinkedHashMap<>();
                Matcher a = ATTR.matcher(t.group(4));
                while (a.find()) {
                    attributes.put(a.group(1), Long.parseLong(a.group(2)));
                }
                current = new Type(t.group(2), t.group(3), attributes, new ArrayList<>(), new ArrayList<>());
                types.put(Integer.parseInt(t.group(1)), current);
                continue;
            }
            if (current == null) {
                continue;
            }
            Matcher m = BTF_MEMBER.matcher(line);
            if (m.find() && current.kind().equals("STRUCT")) {
                current.members().add(new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3))});
                current.memberNames().add(m.group(1));
                continue;
            }
            Matcher v = BTF_VAR.matcher(line);
            if (v.find() && current.kind().equals("DATASEC")) {
                current.memberNames().add(v.group(1));
            }
        }
        return types;
    }

    static Struct struct(Type t, Map<Integer, Type> btf) {
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < t.members().size(); i++) {
            long bits = t.members().get(i)[1];
            if (bits % 8 != 0) {
                throw new IllegalStateException("struct " + t.name() + "." + t.memberNames().get(i) + " is a bit field");
            }
            members.add(new Member(t.memberNames().get(i), bits / 8, sizeOf((int) t.members().get(i)[0], btf)));
        }
        return new Struct(t.name(), t.attributes().get("size"), List.copyOf(members));
    }

    static long sizeOf(int id, Map<Integer, Type> btf) {
        Type t = btf.get(id);
        return switch (t.kind()) {
            case "INT", "STRUCT", "UNION", "ENUM", "ENUM64" -> t.attributes().get("size");
            case "PTR" -> 8;
            case "ARRAY" -> t.attributes().get("nr_elems") * sizeOf(t.attributes().get("type_id").intValue(), btf);
            case "TYPEDEF", "CONST", "VOLATILE", "RESTRICT" -> sizeOf(t.attributes().get("type_id").intValue(), btf);
            default -> throw new IllegalStateException("no size for BTF " + t.kind() + " " + t.name());
        };
    }

    /** Program names: the global functions in the object's program sections (not .text: subprograms). */
    static List<String> programs(Path object) throws IOException, InterruptedException {
        Map<String, String> sectionByIndex = new LinkedHashMap<>();
        Matcher s = Pattern.compile("(?m)^\\s*\\[\\s*(\\d+)\\] (\\S+)").matcher(run("readelf", "-SW", object.toString()));
        while (s.find()) {
            sectionByIndex.put(s.group(1), s.group(2));
        }
        List<String> programs = new ArrayList<>();
        Matcher f = Pattern.compile("(?m)^\\s*\\d+: \\S+\\s+\\d+ FUNC\\s+GLOBAL\\s+\\S+\\s+(\\d+) (\\S+)$")
                .matcher(run("readelf", "-sW", object.toString()));
        while (f.find()) {
            String section = sectionByIndex.get(f.group(1));
            if (section != null && !section.equals(".text")) {
                programs.add(f.group(2));
            }
        }
        return programs;
    }

    static List<String> defineNames(String header) {
        List<String> names = new ArrayList<>();
        Matcher m = DEFINE.matcher(header);
        while (m.find()) {
            if (!m.group(1).startsWith("JFR_EBPF_")) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /** Every #define of the headers, evaluated by the host C compiler as the programs see it. */
    static Map<String, Long> constants(List<Path> headers, Path work, String cc) throws IOException, InterruptedException {
        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <linux/bpf.h>\n");
        for (Path h : headers) {
            c.append("#include \"").append(h.toAbsolutePath()).append("\"\n");
        }
        c.append("int main(void)\n{\n");
        for (Path h : headers) {
            for (String name : defineNames(Files.readString(h))) {
                c.append("\tprintf(\"").append(name).append("=%lld\\n\", (long long)(").append(name).append("));\n");
            }
        }
        // not ours: the kernel's struct bpf_prog_info, whose counter BpfProgram reads
        c.append("\tprintf(\"BPF_PROG_INFO_RECURSION_MISSES=%lld\\n\", (long long)offsetof(struct bpf_prog_info, recursion_misses));\n");
        c.append("\treturn 0;\n}\n");
        Path source = work.resolve("constants.c");
        Path binary = work.resolve("constants");
        Files.writeString(source, c);
        run(cc, "-O0", "-Wall", "-Werror", "-o", binary.toString(), source.toString());
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : run(binary.toString()).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
            }
        }
        return values;
    }

    static long kernelRecursionMisses;

    static void writeLayout(Path out, Path header, List<Struct> structs, Map<String, Long> defines) throws IOException {
        String file = header.getFileName().toString();
        String name = camel(file.substring(0, file.length() - 2)) + "Layout";
        StringBuilder b = new StringBuilder();
        b.append("// Generated by bpf/gen/Skeletons.java from bpf/").append(file).append(": do not edit.\n");
        b.append("package ").append(PACKAGE).append(";\n\n");
        b.append("/** The structs and constants of bpf/").append(file).append(", as the BPF programs see them. */\n");
        b.append("public final class ").append(name).append(" {\n");
        b.append("    private ").append(name).append("() {\n    }\n");
        for (Map.Entry<String, Long> d : defines.entrySet()) {
            b.append("\n    /** {@code #define ").append(d.getKey()).append("} */\n");
            b.append("    public static final long ").append(d.getKey()).append(" = ").append(d.getValue()).append("L;\n");
        }
        if (name.equals("CommonLayout")) {
            b.append("\n    /** offsetof(struct bpf_prog_info, recursion_misses) in the kernel's UAPI header: not ours, read by the agent. */\n");
            b.append("    public static final long BPF_PROG_INFO_RECURSION_MISSES = ").append(kernelRecursionMisses).append("L;\n");
        }
        for (Struct s : structs) {
            b.append("\n    /** {@code struct ").append(s.name()).append("}: offsets and sizes in bytes. */\n");
            b.append("    public static final class ").append(camel(s.name())).append(" {\n");
            b.append("        private ").append(camel(s.name())).append("() {\n        }\n\n");
            b.append("        public static final long SIZE = ").append(s.size()).append("L;\n");
            for (Member m : s.members()) {
                String u = m.name().toUpperCase(Locale.ROOT);
                b.append("        public static final long ").append(u).append(" = ").append(m.offset()).append("L;\n");
                b.append("        public static final long ").append(u).append("_SIZE = ").append(m.size()).append("L;\n");
            }
            b.append("    }\n");
        }
        b.append("}\n");
        Files.writeString(out.resolve(name + ".java"), b);
    }

    static void writeObject(Path out, Path object, Names names) throws IOException {
        String file = object.getFileName().toString();
        String base = baseName(object, ".bpf.o");
        String name = camel(base) + "Object";
        StringBuilder b = new StringBuilder();
        b.append("// Generated by bpf/gen/Skeletons.java from ").append(file).append(": do not edit.\n");
        b.append("package ").append(PACKAGE).append(";\n\n");
        b.append("/** The names in bpf/").append(base).append(".bpf.c, as a libbpf skeleton would give them. */\n");
        b.append("public final class ").append(name).append(" {\n");
        b.append("    private ").append(name).append("() {\n    }\n\n");
        b.append("    /** The object's resource name (io/jfrebpf/bpf/<name>.bpf.o). */\n");
        b.append("    public static final String OBJECT = \"").append(base).append("\";\n");
        sections(b, names);
        b.append("}\n");
        Files.writeString(out.resolve(name + ".java"), b);
    }

    static void sections(StringBuilder b, Names names) {
        section(b, "Programs", "Its programs.", names.programs());
        section(b, "Maps", "Its maps.", names.maps());
        section(b, "Rodata", "Its .rodata tunables (const volatile globals), set before load.", names.rodata());
    }

    static void section(StringBuilder b, String name, String doc, List<String> names) {
        b.append("\n    /** ").append(doc).append(" */\n");
        b.append("    public static final class ").append(name).append(" {\n");
        b.append("        private ").append(name).append("() {\n        }\n\n");
        for (String n : names) {
            b.append("        public static final String ").append(n.toUpperCase(Locale.ROOT)).append(" = \"").append(n).append("\";\n");
        }
        b.append("    }\n");
    }

    static String camel(String snake) {
        StringBuilder b = new StringBuilder();
        for (String part : snake.split("_")) {
            if (!part.isEmpty()) {
                b.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        return b.toString();
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed:\n" + output);
        }
        return output;
    }
}
