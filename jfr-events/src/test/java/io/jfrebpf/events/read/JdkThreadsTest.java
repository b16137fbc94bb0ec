package io.jfrebpf.events.read;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class JdkThreadsTest {
    @Test
    void theJdksDaemonsAreItsOwnByNameOrPrefix() {
        for (String n : new String[] {"VirtualThread-unblocker", "VirtualThread-unparker", "Common-Cleaner", "Reference Handler",
                "Signal Dispatcher", "Finalizer", "process reaper", "process reaper (pid 4711)", "C2 CompilerThread0",
                "JFR Periodic Tasks", "jfr-ebpf-writer", "Read-Poller", "SubPoller-0"}) {
            assertTrue(JdkThreads.isJdkInternal(n), n);
            assertFalse(JdkThreads.isApplication(n), n);
        }
    }

    @Test
    void theApplicationsThreadsAndCarriersAreTheApplications() {
        for (String n : new String[] {"main", "vt-7", "", "ForkJoinPool-1-worker-1", "http-nio-8080-exec-3", "Cleaner-0",
                "my Finalizer", "processor"}) {
            assertTrue(JdkThreads.isApplication(n), n);
        }
        assertFalse(JdkThreads.isApplication(null), "an event without a Java thread");
    }
}
