package io.jfrebpf.agent.libbpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.bpf.BpfNames;
import io.jfrebpf.bpf.StackNames;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The names bpf/gen/Skeletons.java generates are the names libbpf finds in the objects the agent
 * ships: each {@code XObject} lists exactly its object's programs, maps and tunables, and each
 * {@code XNames} of a shared header only names found in every object it says includes it.
 */
class GeneratedNamesTest {
    @Test
    void everyObjectClassNamesExactlyWhatLibbpfFindsInItsObject() throws Exception {
        assertFalse(BpfNames.OBJECTS.isEmpty());
        for (Class<?> names : BpfNames.OBJECTS) {
            String objectName = (String) names.getField("OBJECT").get(null);
            try (BpfObject object = BpfObject.openResource(objectName)) {
                Found found = found(object);
                assertEquals(found.programs, constants(names, "Programs"), objectName + " programs");
                assertEquals(found.maps, constants(names, "Maps"), objectName + " maps");
                assertEquals(found.rodata, constants(names, "Rodata"), objectName + " .rodata");
            }
        }
    }

    @Test
    void everySharedHeaderClassNamesOnlyWhatEachObjectIncludingItHas() throws Exception {
        assertTrue(BpfNames.SHARED.contains(StackNames.class), BpfNames.SHARED.toString());
        for (Class<?> names : BpfNames.SHARED) {
            @SuppressWarnings("unchecked")
            List<String> objects = (List<String>) names.getField("OBJECTS").get(null);
            assertFalse(objects.isEmpty(), names.getSimpleName() + ": included by no object");
            Set<String> programs = constants(names, "Programs");
            Set<String> maps = constants(names, "Maps");
            Set<String> rodata = constants(names, "Rodata");
            assertFalse(programs.isEmpty() && maps.isEmpty() && rodata.isEmpty(), names.getSimpleName() + " names nothing");
            for (String objectName : objects) {
                try (BpfObject object = BpfObject.openResource(objectName)) {
                    Found found = found(object);
                    assertTrue(found.programs.containsAll(programs), names.getSimpleName() + " programs in " + objectName);
                    assertTrue(found.maps.containsAll(maps), names.getSimpleName() + " maps in " + objectName);
                    assertTrue(found.rodata.containsAll(rodata), names.getSimpleName() + " .rodata in " + objectName);
                }
            }
        }
    }

    @Test
    void theStackMapsAreSharedAndEveryProbeObjectHasThem() {
        assertEquals("user_stacks", StackNames.Maps.USER_STACKS);
        assertTrue(StackNames.OBJECTS.containsAll(List.of("cpu_sample", "file_open", "malloc", "malloc_session", "offcpu",
                "postgres", "sched", "syscall_latency", "tcp")), StackNames.OBJECTS.toString());
        assertFalse(StackNames.OBJECTS.contains("whoami"), "whoami walks no stack");
    }

    private record Found(Set<String> programs, Set<String> maps, Set<String> rodata) {
    }

    private static Found found(BpfObject object) throws BpfException {
        Set<String> programs = new TreeSet<>(object.programs().stream().map(BpfProgram::name).toList());
        // libbpf's internal maps (.rodata, .bss, .data) are named object-prefix.section: not the object's own
        Set<String> maps = new TreeSet<>(object.maps().stream().map(BpfMap::name).filter(n -> !n.contains(".")).toList());
        boolean hasRodata = object.maps().stream().anyMatch(m -> m.name().endsWith(".rodata"));
        Set<String> rodata = hasRodata ? new TreeSet<>(object.rodata().names()) : new TreeSet<>();
        return new Found(programs, maps, rodata);
    }

    private static Set<String> constants(Class<?> names, String section) throws ReflectiveOperationException {
        Class<?> nested = Class.forName(names.getName() + "$" + section);
        Set<String> values = new TreeSet<>();
        for (Field f : nested.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                String value = (String) f.get(null);
                assertEquals(value.toUpperCase(java.util.Locale.ROOT), f.getName(), "a constant is named after its value");
                values.add(value);
            }
        }
        return values;
    }
}
