package io.jfrebpf.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/events.md is what the catalog says, always: this test fails when the file is older than
 * the catalog, and with {@code -Djfrebpf.docs.write=true} writes it anew. Also checks that every
 * catalog class carries what the generated documentation (and the readers) rely on.
 */
class EventsDocTest {
    static final Path DOC = Path.of("..", "docs", "events.md");

    @Test
    void everyEventIsDocumentedFromItsAnnotations() throws Exception {
        for (Class<? extends EbpfEvent> c : EbpfEvents.ALL) {
            assertNotNull(c.getAnnotation(jdk.jfr.Name.class), c + ": @Name");
            assertNotNull(c.getAnnotation(jdk.jfr.Label.class), c + ": @Label");
            assertNotNull(c.getAnnotation(jdk.jfr.Description.class), c + ": @Description");
            assertNotNull(c.getAnnotation(FromProbe.class), c + ": @FromProbe");
        }
        String rendered = EventsDoc.render();
        if (Boolean.getBoolean("jfrebpf.docs.write")) {
            Files.createDirectories(DOC.getParent());
            Files.writeString(DOC, rendered);
        }
        assertEquals(rendered, Files.exists(DOC) ? Files.readString(DOC) : "",
                DOC.toAbsolutePath().normalize() + " is not what the catalog says: run mvn -pl jfr-events test -Dtest=EventsDocTest"
                        + " -Djfrebpf.docs.write=true");
    }
}
