package io.jfrebpf.events.read;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jfrebpf.events.EbpfEvents;
import java.util.List;
import jdk.jfr.Name;
import org.junit.jupiter.api.Test;

class EventNamesTest {
    @Test
    void theReadersNamesAreTheCatalogsInItsOrder() {
        List<String> catalog = EbpfEvents.ALL.stream().map(c -> c.getAnnotation(Name.class).value()).toList();
        assertEquals(catalog, EventNames.ALL);
        for (String name : EventNames.ALL) {
            assertEquals(EventNames.PREFIX, name.substring(0, EventNames.PREFIX.length()));
        }
    }
}
