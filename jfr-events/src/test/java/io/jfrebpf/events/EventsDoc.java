package io.jfrebpf.events;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Locale;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;
import jdk.jfr.Unsigned;

/** docs/events.md, written from the catalog's annotations: the one place names, fields and units are defined. */
final class EventsDoc {
    private EventsDoc() {
    }

    static String render() {
        StringBuilder b = new StringBuilder();
        b.append("# Events\n\n");
        b.append("<!-- Generated from the event catalog (jfr-events/) by EventsDocTest: do not edit; run\n");
        b.append("     `mvn -pl jfr-events test -Dtest=EventsDocTest -Djfrebpf.docs.write=true` after changing an event. -->\n\n");
        b.append("Every event has JFR's `startTime` (on the JVM's own clock), `duration`, `eventThread` (the Java thread it\n");
        b.append("happened on, or the OS thread with its kernel name for JVM-internal and foreign threads) and, unless\n");
        b.append("marked *no stack*, `stackTrace`: mixed Java/native/kernel frames, each with its frame type\n");
        b.append("(`Interpreted`, `JIT compiled`, `Inlined`, `Native`, `Kernel`).\n\n");
        b.append("| event | label | probe | stack |\n|---|---|---|---|\n");
        for (Class<? extends EbpfEvent> c : EbpfEvents.ALL) {
            b.append("| [`").append(name(c)).append("`](#").append(anchor(name(c))).append(") | ")
                    .append(c.getAnnotation(Label.class).value()).append(" | `").append(c.getAnnotation(FromProbe.class).value())
                    .append("` | ").append(hasStack(c) ? "yes" : "no").append(" |\n");
        }
        for (Class<? extends EbpfEvent> c : EbpfEvents.ALL) {
            b.append("\n## ").append(name(c)).append("\n\n");
            b.append("**").append(c.getAnnotation(Label.class).value()).append("** — ")
                    .append(c.getAnnotation(Description.class).value()).append(".\n\n");
            Category cat = c.getAnnotation(Category.class);
            b.append("Probe: `").append(c.getAnnotation(FromProbe.class).value()).append("`; category: ")
                    .append(cat == null ? "-" : String.join(" / ", cat.value())).append("; stack trace: ")
                    .append(hasStack(c) ? "yes" : "no").append(".\n\n");
            b.append("| field | type | unit | description |\n|---|---|---|---|\n");
            for (Field f : c.getDeclaredFields()) {
                if (!Modifier.isPublic(f.getModifiers()) || Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                Label l = f.getAnnotation(Label.class);
                Description d = f.getAnnotation(Description.class);
                b.append("| `").append(f.getName()).append("` | ").append(f.getType().getSimpleName()).append(" | ")
                        .append(unit(f)).append(" | ").append(l == null ? "" : l.value())
                        .append(d == null ? "" : (l == null ? "" : ": ") + escape(d.value())).append(" |\n");
            }
        }
        return b.toString();
    }

    private static String unit(Field f) {
        Timespan t = f.getAnnotation(Timespan.class);
        DataAmount a = f.getAnnotation(DataAmount.class);
        String unit = t != null ? "timespan (" + t.value().toLowerCase(Locale.ROOT) + ")" : a != null ? a.value().toLowerCase(Locale.ROOT) : "";
        if (f.getAnnotation(Unsigned.class) != null) {
            unit = unit.isEmpty() ? "unsigned" : unit + ", unsigned";
        }
        return unit;
    }

    private static String escape(String text) {
        return text.replace("|", "\\|");
    }

    private static String name(Class<?> c) {
        return c.getAnnotation(Name.class).value();
    }

    private static String anchor(String name) {
        return name.toLowerCase(Locale.ROOT).replace(".", "");
    }

    private static boolean hasStack(Class<?> c) {
        StackTrace st = c.getAnnotation(StackTrace.class);
        return st == null || st.value();
    }
}
