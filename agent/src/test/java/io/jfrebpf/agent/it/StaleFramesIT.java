package io.jfrebpf.agent.it;

import static io.jfrebpf.agent.it.Recordings.javaName;
import static io.jfrebpf.agent.it.Recordings.where;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stacks taken inside native code without frame pointers carry no stale frames
 * ({@link StaleFramesWorkload}): the walk checks the native frames against HotSpot's frame anchor
 * of the thread (a scan's candidate must follow a call and must not run into Java code below the
 * last Java frame) and resumes at its last Java frame when the chain lost its way. Before, about
 * six opens in ten of this workload showed the deep socket calls of an earlier iteration as their
 * callers (and the demo 28,533 of 43,043 an earlier JDBC call).
 */
class StaleFramesIT {
    static final Set<String> THREAD_ROOTS = Set.of("thread_native_entry", "start_thread", "clone3", "clone");
    static final Pattern RESUMED = Pattern.compile("(\\d+) distinct ones resumed at their last Java frame");

    @Test
    void opensFromAShallowFrameAfterDeepNativeCallsNameOnlyTheirRealCallers(@TempDir Path dir) throws Exception {
        BpfRequirement.require();
        Path file = Files.writeString(dir.resolve("target.txt"), "x".repeat(100)).toRealPath();
        Path recording = dir.resolve("stale.jfr");
        // syscall on: opens are then taken at the syscall (libc's registers), the hard case;
        // without it at the entry of libc's open, where the frame pointer is still the caller's
        ChildJvm.Result result = ChildJvm.workload(StaleFramesWorkload.class, file.toString())
                .agent("file=" + recording + ",probes=file+syscall").run(dir).assertSucceeded();
        List<RecordedEvent> opens = where(Recordings.read(recording), "ebpf.FileOpen",
                e -> "mixed".equals(javaName(e)) && file.toString().equals(e.getString("path")));
        assertTrue(opens.size() >= 1000, "opens of the file on thread mixed: " + opens.size() + "\n" + result.output());
        int stale = 0;
        int incomplete = 0;
        int atSyscall = 0;
        int unnamed = 0;
        String example = null;
        for (RecordedEvent e : opens) {
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            boolean shallow = frames.stream().anyMatch(f -> f.getMethod().getName().equals("openShallow"));
            boolean deep = frames.stream().anyMatch(f -> f.getMethod().getName().equals("deep"));
            boolean rooted = frames.stream().anyMatch(f -> THREAD_ROOTS.contains(f.getMethod().getName()));
            boolean garbage = frames.stream().anyMatch(f -> f.getMethod().getType().getName().equals("unknown"));
            if (garbage) {
                unnamed++; // a pc in no mapped file: a word of data taken for a return address
            }
            if (frames.get(0).getType().equals("Kernel")) {
                atSyscall++;
            }
            if (deep || !shallow) {
                stale++;
            }
            if (!rooted) {
                incomplete++;
            }
            if ((deep || !shallow || !rooted || garbage) && example == null) {
                example = frames.stream().map(f -> f.getMethod().getType().getName() + "." + f.getMethod().getName()
                        + " [" + f.getType() + "]").toList().toString();
            }
        }
        assertEquals(opens.size(), atSyscall, "every open taken at the syscall (kernel frames first)");
        assertEquals(0, stale, stale + " of " + opens.size() + " opens do not name openShallow or name deep; e.g. " + example);
        assertEquals(0, unnamed, unnamed + " of " + opens.size() + " stacks have a frame in no mapped file; e.g. " + example);
        assertEquals(0, incomplete, incomplete + " of " + opens.size() + " stacks do not reach the thread's start; e.g. " + example);
        // the agent says how many walks it resumed at the anchor (few: the scan skips stale candidates first)
        assertTrue(RESUMED.matcher(result.output()).find(), "the agent's stacks line: " + result.output());
    }
}
