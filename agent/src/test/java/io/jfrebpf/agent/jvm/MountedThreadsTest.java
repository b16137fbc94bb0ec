package io.jfrebpf.agent.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Where the programs read the mounted thread, in this very JVM (whose VMStructs list
 * {@code JavaThread::_monitor_owner_id}): checked at once on the calling platform thread, on
 * virtual threads only when the first event of one asks ({@link MountedThreads#confirmed}), and
 * then once.
 */
class MountedThreadsTest {
    @Test
    void theCheckOnVirtualThreadsWaitsForTheFirstEventOfOneAndRunsOnce() {
        MountedThreads m = MountedThreads.find();
        assertTrue(m.known(), m.describe());
        assertTrue(m.describe().startsWith("mounted virtual threads named by JavaThread::_monitor_owner_id at +"), m.describe());
        assertTrue(m.describe().endsWith("(VMStructs; checked on the agent's thread, on virtual threads at the first event of one)"),
                "no virtual thread of the check has run yet: " + m.describe());
        assertTrue(m.confirmed(), m.describe());
        int mounts = MountedThreads.CHECK_THREADS * MountedThreads.CHECK_MOUNTS + 1;
        assertTrue(m.describe().endsWith("(VMStructs; checked on " + mounts + " mounts)"), m.describe());
        String after = m.describe();
        assertTrue(m.confirmed(), after);
        assertEquals(after, m.describe(), "checked once");
    }

    @Test
    void anUnknownMountedThreadNamesNoEventAndSaysWhy() {
        MountedThreads m = MountedThreads.unknown("why");
        assertTrue(!m.known() && !m.confirmed(), "nothing is read");
        assertEquals("why", m.describe());
    }
}
