package io.jfrebpf.agent.jfr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.os.Tid;
import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.EbpfEvents;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import jdk.jfr.AnnotationElement;
import jdk.jfr.Enabled;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Name;
import jdk.jfr.Registered;
import jdk.jfr.StackTrace;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metadata of our chunks, built from the annotation table the catalog's build writes
 * (jfr-events/gen/EventAnnotationTable.java), says what the catalog classes say: every event type
 * of our chunks, as the JDK's parser reads it, against the type JFR itself makes of the class
 * (registered for the comparison only: the catalog is not registered with the JVM's recorder).
 * A stale table, or an annotation of a catalog class the metadata leaves out, fails here;
 * EventAnnotationsTest holds the table itself to reflection.
 */
class CatalogMetadataTest {
    /** Annotations of the class that are JFR settings, not metadata of our chunks ({@code @StackTrace}: the stackTrace field). */
    private static final Set<String> SETTINGS = Set.of(Enabled.class.getName(), Registered.class.getName(),
            StackTrace.class.getName(), Name.class.getName());

    /** The fields JFR gives every event: named, typed and ordered as JFR does; their labels are the JVM's chunks'. */
    private static final Set<String> IMPLICIT = Set.of("startTime", "duration", "eventThread", "stackTrace");

    @Name("test.NotInTheCatalog")
    static final class NotInTheCatalog extends EbpfEvent {
        public long value;
    }

    @Test
    void everyEventTypeOfOurChunksIsWhatJfrMakesOfItsClass(@TempDir Path dir) throws Exception {
        ChunkWriter writer = new ChunkWriter(dir.resolve("ours.jfr"), EbpfEvents.ALL, JvmTicks.MONOTONIC, Tid::current);
        for (int i = 0; i < EbpfEvents.ALL.size(); i++) {
            writer.write(ChunkRoundTripTest.sample(EbpfEvents.ALL.get(i), i), System.nanoTime(), 1, null, null);
        }
        writer.close();
        Path out = dir.resolve("merged.jfr");
        JfrFiles.merge(null, writer.chunks(), out);
        Map<String, EventType> ours = new HashMap<>();
        try (RecordingFile f = new RecordingFile(out)) {
            for (EventType t : f.readEventTypes()) {
                ours.put(t.getName(), t);
            }
        }
        assertEquals(EbpfEvents.ALL.size(), ours.size(), ours.keySet().toString());
        for (Class<? extends EbpfEvent> c : EbpfEvents.ALL) {
            EventType jfr = jfrsOwn(c);
            EventType t = ours.get(jfr.getName());
            String what = jfr.getName();
            assertNotNull(t, what);
            assertEquals(jfr.getLabel(), t.getLabel(), what);
            assertEquals(jfr.getDescription(), t.getDescription(), what);
            assertEquals(jfr.getCategoryNames(), t.getCategoryNames(), what);
            assertEquals(annotations(jfr.getAnnotationElements(), SETTINGS), annotations(t.getAnnotationElements(), Set.of()), what);
            // JFR keeps the field of a type without stack traces (@StackTrace(false) is a setting to it); our chunks leave it out
            StackTrace st = c.getAnnotation(StackTrace.class);
            List<String> expected = names(jfr.getFields());
            if (st != null && !st.value()) {
                expected.remove("stackTrace");
            }
            assertEquals(expected, names(t.getFields()), what + " fields");
            for (ValueDescriptor v : jfr.getFields()) {
                String field = what + "." + v.getName();
                ValueDescriptor u = t.getField(v.getName());
                if (u == null && !expected.contains(v.getName())) {
                    continue;
                }
                assertEquals(v.getTypeName(), u.getTypeName(), field);
                if (IMPLICIT.contains(v.getName())) {
                    continue; // the agent's own, the same for every type (Metadata), not the catalog's
                }
                assertEquals(v.getLabel(), u.getLabel(), field);
                assertEquals(v.getDescription(), u.getDescription(), field);
                assertEquals(v.getContentType(), u.getContentType(), field);
                assertEquals(v.isArray(), u.isArray(), field);
                assertEquals(annotations(v.getAnnotationElements(), Set.of()), annotations(u.getAnnotationElements(), Set.of()), field);
            }
        }
    }

    @Test
    void aClassTheBuildDidNotWriteDownIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Metadata.of(List.of(NotInTheCatalog.class)));
        assertTrue(e.getMessage().contains(NotInTheCatalog.class.getName()), e.getMessage());
    }

    /** JFR's own event type of a catalog class, registered for as long as it takes to ask. */
    private static EventType jfrsOwn(Class<? extends EbpfEvent> c) {
        FlightRecorder.register(c);
        try {
            return EventType.getEventType(c);
        } finally {
            FlightRecorder.unregister(c);
        }
    }

    private static List<String> names(List<ValueDescriptor> fields) {
        List<String> names = new ArrayList<>();
        for (ValueDescriptor v : fields) {
            names.add(v.getName());
        }
        return names;
    }

    /** Type name to values (arrays as lists), without the annotations in {@code leaveOut}. */
    private static Map<String, Map<String, Object>> annotations(List<AnnotationElement> elements, Set<String> leaveOut) {
        Map<String, Map<String, Object>> byType = new TreeMap<>();
        for (AnnotationElement a : elements) {
            if (leaveOut.contains(a.getTypeName())) {
                continue;
            }
            Map<String, Object> values = new TreeMap<>();
            List<ValueDescriptor> names = a.getValueDescriptors();
            for (int i = 0; i < names.size(); i++) {
                Object v = a.getValues().get(i);
                values.put(names.get(i).getName(), v instanceof Object[] array ? Arrays.asList(array) : v);
            }
            byType.put(a.getTypeName(), values);
        }
        return byType;
    }
}
