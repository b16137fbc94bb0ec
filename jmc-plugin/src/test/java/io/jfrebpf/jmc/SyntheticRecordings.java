package io.jfrebpf.jmc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.AnnotationElement;
import jdk.jfr.Event;
import jdk.jfr.EventFactory;
import jdk.jfr.Name;
import jdk.jfr.Recording;
import jdk.jfr.ValueDescriptor;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;

/**
 * Small real recordings for the rules' tests: events of any type name (ours included) with string
 * fields, committed through jdk.jfr in this JVM, dumped to a file and read back by JMC's parser,
 * as JMC reads a recording.
 */
final class SyntheticRecordings {
    private final Map<String, EventFactory> factories = new HashMap<>();
    private final Recording recording = new Recording();

    SyntheticRecordings() {
        recording.start();
    }

    /** One event of {@code type} lasting at least {@code millis}, with these string fields (name, value, name, value...). */
    SyntheticRecordings event(String type, long millis, String... fields) throws InterruptedException {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < fields.length; i += 2) {
            names.add(fields[i]);
        }
        EventFactory f = factories.computeIfAbsent(type + names, k -> {
            List<ValueDescriptor> descriptors = new ArrayList<>();
            for (String n : names) {
                descriptors.add(new ValueDescriptor(String.class, n));
            }
            return EventFactory.create(List.of(new AnnotationElement(Name.class, type)), descriptors);
        });
        Event e = f.newEvent();
        for (int i = 0; i < fields.length; i += 2) {
            e.set(i / 2, fields[i + 1]);
        }
        e.begin();
        if (millis > 0) {
            Thread.sleep(millis);
        }
        e.end();
        e.commit();
        return this;
    }

    /** The recording so far, as JMC's parser reads it from a file. */
    IItemCollection items(Path file) throws Exception {
        recording.dump(file);
        recording.close();
        // a type of the same name but other fields, in a later recording of this JVM, must not meet this one
        factories.values().forEach(EventFactory::unregister);
        return JfrLoaderToolkit.loadEvents(file.toFile());
    }
}
