package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/** Reading what a child JVM recorded, with the JDK's own parser. */
final class Recordings {
    private Recordings() {
    }

    static List<RecordedEvent> read(Path file) throws IOException {
        assertTrue(Files.isRegularFile(file), "no recording at " + file);
        return RecordingFile.readAllEvents(file);
    }

    static List<RecordedEvent> ofType(List<RecordedEvent> events, String type) {
        return events.stream().filter(e -> e.getEventType().getName().equals(type)).toList();
    }

    static List<RecordedEvent> where(List<RecordedEvent> events, String type, Predicate<RecordedEvent> filter) {
        return ofType(events, type).stream().filter(filter).toList();
    }

    static String javaName(RecordedEvent e) {
        return e.getThread() == null ? null : e.getThread().getJavaName();
    }
}
