package io.jfrebpf.agent.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class PathRedactionTest {
    static final List<String> PREFIXES = List.of("/home", "/run/secrets");

    @Test
    void pathsUnderAPrefixKeepOnlyThePrefix() {
        assertEquals("/home/<redacted>", PathRedaction.apply("/home/alice/.ssh/id_ed25519", PREFIXES));
        assertEquals("/run/secrets/<redacted>", PathRedaction.apply("/run/secrets/db-password", PREFIXES));
        assertEquals("/home", PathRedaction.apply("/home", PREFIXES), "the directory itself says nothing more");
    }

    @Test
    void otherPathsAreKept() {
        assertEquals("/homework/notes", PathRedaction.apply("/homework/notes", PREFIXES), "whole components only");
        assertEquals("/etc/hosts", PathRedaction.apply("/etc/hosts", PREFIXES));
        assertEquals("/home/alice", PathRedaction.apply("/home/alice", List.of()));
        assertNull(PathRedaction.apply(null, PREFIXES));
    }
}
