package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stale Method*s: a JVM that defines and unloads thousands of classes while the CPU sampler runs
 * at 999 Hz. Samples taken in a class that is unloaded before the agent symbolizes them point
 * at freed metadata; the agent must neither crash nor name a frame with garbage (it reads with
 * SafeFetch and cross-checks that a Method* and its holder point at each other). The spinner
 * lives in System.nanoTime, whose time is read in the kernel's vDSO: those frames are named too.
 */
class ClassUnloadingIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    @Test
    void unloadedClassesNeitherCrashNorGarbleFrames(@TempDir Path dir) throws Exception {
        Path recording = dir.resolve("churn.jfr");
        ChildJvm.Result r = ChildJvm.workload(ClassChurn.class, "6")
                .agent("file=" + recording + ",probes=cpu,cpu.hz=999").run(dir).assertSucceeded();
        Matcher m = Pattern.compile("classes defined and dropped: (\\d+)").matcher(r.output());
        assertTrue(m.find(), r.output());
        long classes = Long.parseLong(m.group(1));
        assertTrue(classes > 1000, "classes churned: " + classes);
        assertFalse(r.output().contains("hs_err") || r.output().contains("SIGSEGV"), r.output());

        List<RecordedEvent> samples = Recordings.ofType(Recordings.read(recording), "ebpf.CPUSample");
        assertTrue(samples.size() > 1000, "samples: " + samples.size());
        long inSpinner = 0;
        long inVdso = 0;
        for (RecordedEvent e : samples) {
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            // System.nanoTime -> libc clock_gettime -> the kernel's vDSO, an ELF image with no file
            for (int i = 0; i + 1 < frames.size(); i++) {
                // libc's function under its public name (its aliases share the address: __clock_gettime)
                String caller = frames.get(i + 1).getMethod().getName();
                if ((caller.equals("clock_gettime") || caller.equals("__clock_gettime")) && !"Kernel".equals(frames.get(i).getType())
                        && !frames.get(i + 1).getMethod().getType().getName().equals("vdso")) {
                    String module = frames.get(i).getMethod().getType().getName();
                    assertFalse(module.equals("unknown"), "the frame under clock_gettime in " + frames);
                    inVdso += module.equals("vdso") ? 1 : 0;
                }
            }
            for (RecordedFrame f : e.getStackTrace().getFrames()) {
                String type = f.getMethod().getType().getName();
                String name = f.getMethod().getName();
                assertTrue(!type.isEmpty() && type.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f),
                        "frame type name '" + type + "' in " + e.getStackTrace());
                assertTrue(!name.isEmpty() && name.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f),
                        "frame name '" + name + "' in " + e.getStackTrace());
                if (name.equals("spin")) {
                    assertTrue(type.startsWith(ChurnedSpinner.class.getName()), "spin() of " + type);
                    inSpinner++;
                    break;
                }
            }
        }
        // the spinner runs nearly all of the time: most samples of the main thread name it, from
        // classes that were mostly gone by the time their samples were symbolized
        assertTrue(inSpinner > samples.size() / 4, inSpinner + " of " + samples.size() + " samples in spin()");
        assertTrue(inVdso > 0, "no sample in the vDSO's clock_gettime");
        assertEquals(0, Recordings.where(Recordings.read(recording), "ebpf.ProbeStatus",
                e -> "cpu".equals(e.getString("probe")) && !e.getBoolean("attached")).size());
    }
}
