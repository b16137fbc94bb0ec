package io.jfrebpf.agent.jfr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.EbpfEvents;
import java.lang.reflect.Field;
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
import org.junit.jupiter.api.Test;

/** The table the catalog's build writes gives, for every event of the catalog, what reflection gives. */
class EventAnnotationsTest {
    @Test
    void agreesWithReflectionOnEveryEventOfTheCatalog() {
        for (Class<? extends EbpfEvent> c : EbpfEvents.ALL) {
            EventAnnotations a = EventAnnotations.of(c);
            String what = c.getName();
            assertEquals(c.getAnnotation(Name.class).value(), a.classValue(Name.class, null, null), what);
            Label l = c.getAnnotation(Label.class);
            assertEquals(l == null ? null : l.value(), a.classValue(Label.class, null, null), what);
            Description d = c.getAnnotation(Description.class);
            assertEquals(d == null ? null : d.value(), a.classValue(Description.class, null, null), what);
            StackTrace st = c.getAnnotation(StackTrace.class);
            assertEquals(st == null || st.value(), a.classValue(StackTrace.class, Boolean.TRUE, Boolean.TRUE), what);
            Category cat = c.getAnnotation(Category.class);
            assertArrayEquals(cat == null ? null : cat.value(), (String[]) a.classValue(Category.class, null, new String[0]), what);
            for (Field f : c.getDeclaredFields()) {
                String field = what + "." + f.getName();
                String n = f.getName();
                Label fl = f.getAnnotation(Label.class);
                assertEquals(fl == null ? null : fl.value(), a.fieldValue(n, Label.class, null, null), field);
                Description fd = f.getAnnotation(Description.class);
                assertEquals(fd == null ? null : fd.value(), a.fieldValue(n, Description.class, null, null), field);
                Timespan t = f.getAnnotation(Timespan.class);
                assertEquals(t == null ? null : t.value(), a.fieldValue(n, Timespan.class, null, Timespan.NANOSECONDS), field);
                Timestamp ts = f.getAnnotation(Timestamp.class);
                assertEquals(ts == null ? null : ts.value(),
                        a.fieldValue(n, Timestamp.class, null, Timestamp.MILLISECONDS_SINCE_EPOCH), field);
                DataAmount da = f.getAnnotation(DataAmount.class);
                assertEquals(da == null ? null : da.value(), a.fieldValue(n, DataAmount.class, null, DataAmount.BYTES), field);
                assertEquals(f.isAnnotationPresent(Unsigned.class), a.onField(n, Unsigned.class), field);
                assertEquals(f.isAnnotationPresent(MemoryAddress.class), a.onField(n, MemoryAddress.class), field);
                assertEquals(f.isAnnotationPresent(Percentage.class), a.onField(n, Percentage.class), field);
                assertEquals(f.isAnnotationPresent(Frequency.class), a.onField(n, Frequency.class), field);
            }
        }
    }
}
