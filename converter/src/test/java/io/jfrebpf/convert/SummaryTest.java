package io.jfrebpf.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.events.FileOpenEvent;
import io.jfrebpf.events.OffCPUEvent;
import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import jdk.jfr.AnnotationElement;
import jdk.jfr.Event;
import jdk.jfr.EventFactory;
import jdk.jfr.Name;
import jdk.jfr.Recording;
import jdk.jfr.ValueDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The summary of a recording whose stacks do not reach their threads' start. Events named as
 * ours, committed in this JVM on a thread of its own: their stacks hold Java frames only, down
 * to Thread.run, and no thread root, as a kernel walk that ended in JIT code leaves them.
 */
class SummaryTest {
    static String summary(Path file) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        Summary.print(file, RecordingFacts.read(file, new PrintStream(new ByteArrayOutputStream())), new PrintStream(o, true,
                StandardCharsets.UTF_8));
        return o.toString(StandardCharsets.UTF_8);
    }

    /** {@code n} file opens of {@code path} from this test's code, with the catalog's fields. */
    static Path opens(Path file, String path, int n) throws Exception {
        List<Field> fields = Arrays.stream(FileOpenEvent.class.getFields()).filter(x -> !Modifier.isStatic(x.getModifiers())).toList();
        EventFactory f = EventFactory.create(List.of(new AnnotationElement(Name.class, EventNames.FILE_OPEN)),
                fields.stream().map(x -> new ValueDescriptor(x.getType(), x.getName())).toList());
        try (Recording r = new Recording()) {
            r.enable(EventNames.FILE_OPEN).withStackTrace();
            r.start();
            // on a thread of its own: a stack shallower than JFR's depth limit (a cut stack is not a short one)
            Thread t = new Thread(() -> {
                for (int i = 0; i < n; i++) {
                    Event e = f.newEvent();
                    for (int k = 0; k < fields.size(); k++) {
                        if (fields.get(k).getName().equals("path")) {
                            e.set(k, path);
                        }
                    }
                    e.commit();
                }
            }, "opener");
            t.start();
            t.join();
            r.stop();
            r.dump(file);
        } finally {
            f.unregister();
        }
        return file;
    }

    @Test
    void aRecordingOfShortStacksSaysSoOnceFirstAndNamesNoJdkFrameAsTheirCode(@TempDir Path dir) throws Exception {
        String out = summary(opens(dir.resolve("short.jfr"), "/etc/app.conf", 40));
        assertEquals(1, out.split("STACKS ARE SHORT", -1).length - 1, out);
        assertTrue(out.contains("STACKS ARE SHORT: 40 of 40 eBPF stacks (100.0%) end before their thread's start"), out);
        assertTrue(out.indexOf("STACKS ARE SHORT") < out.indexOf("eBPF event "), "before the tables: " + out);
        assertTrue(out.contains("/etc/app.conf  <- " + CallSites.INCOMPLETE), "the code behind them is unknown: " + out);
        assertFalse(out.contains("<- jdk.") || out.contains("<- java.") || out.contains("<- io.jfrebpf.convert.SummaryTest"),
                "no frame of a short stack named as its code: " + out);
    }

    @Test
    void aFewShortStacksAreOneQuietLine() {
        RecordingFacts f = new RecordingFacts(CallSites.DEFAULT);
        f.stacks = 373;
        f.shortStacks = 3;
        f.preserveFramePointer = false;
        String line = Summary.shortStacks(f);
        assertEquals("stacks: 3 of 373 eBPF stacks (0.8%) end before their thread's start; the code behind those events reads "
                + CallSites.INCOMPLETE + " below.", line);
        f.shortStacks = 0;
        assertEquals(null, Summary.shortStacks(f), "whole stacks: nothing to say");
        f.shortStacks = 40;
        assertTrue(Summary.shortStacks(f).startsWith("STACKS ARE SHORT: 40 of 373 eBPF stacks (10.7%)"), Summary.shortStacks(f));
    }

    /** One ebpf.OffCPU event of 20 ms or more, committed from the caller's frame. */
    static void offCpu(EventFactory f) {
        Event e = f.newEvent();
        e.begin();
        try {
            Thread.sleep(20);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
        }
        e.end();
        e.commit();
    }

    static void unblockerWaits(EventFactory f) {
        offCpu(f);
    }

    static void workerBlocks(EventFactory f) {
        offCpu(f);
    }

    /** The JDK's idle daemons (the VirtualThread-unblocker here) are left out of the off-CPU table, and said to be. */
    @Test
    void offCpuTimeOfTheJdksOwnThreadsIsLeftOut(@TempDir Path dir) throws Exception {
        List<Field> fields = Arrays.stream(OffCPUEvent.class.getFields()).filter(x -> !Modifier.isStatic(x.getModifiers())).toList();
        EventFactory f = EventFactory.create(List.of(new AnnotationElement(Name.class, EventNames.OFF_CPU)),
                fields.stream().map(x -> new ValueDescriptor(x.getType(), x.getName())).toList());
        Path file = dir.resolve("idle.jfr");
        try (Recording r = new Recording()) {
            r.enable(EventNames.OFF_CPU).withStackTrace();
            r.start();
            Thread unblocker = new Thread(() -> unblockerWaits(f), "VirtualThread-unblocker");
            Thread worker = new Thread(() -> workerBlocks(f), "request-worker");
            unblocker.start();
            worker.start();
            unblocker.join();
            worker.join();
            r.stop();
            r.dump(file);
        } finally {
            f.unregister();
        }
        String out = summary(file);
        assertTrue(out.contains("io.jfrebpf.convert.SummaryTest.offCpu"), out);
        RecordingFacts facts = RecordingFacts.read(file, new PrintStream(new ByteArrayOutputStream()));
        assertEquals(1, facts.offCpuNanos.size(), "the worker's stretch alone: " + facts.offCpuNanos);
        assertTrue(facts.offCpuJdkNanos >= 20_000_000L, "the unblocker's stretch: " + facts.offCpuJdkNanos);
        assertTrue(out.contains(" of the JVM's and the JDK's own threads left out)"), out);
    }
}
