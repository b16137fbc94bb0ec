package io.jfrebpf.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The converter fed what is not a recording, or a broken one (random bytes, with and without
 * JFR's magic and a plausible header): every command exits 2 with one "convert:" line, throws
 * nothing, and writes no output file.
 */
class GarbageRecordingsTest {
    @RepeatedTest(60)
    void garbageIsAClearErrorNeverACrash(RepetitionInfo info, @TempDir Path dir) throws Exception {
        Random random = new Random(info.getCurrentRepetition() * 7919L);
        byte[] bytes = new byte[random.nextInt(4096)];
        random.nextBytes(bytes);
        if (info.getCurrentRepetition() % 2 == 0 && bytes.length >= 8) {
            System.arraycopy("FLR\0".getBytes(StandardCharsets.ISO_8859_1), 0, bytes, 0, 4);
            bytes[4] = 0;
            bytes[5] = 2; // major version 2
            bytes[6] = 0;
            bytes[7] = 1;
        }
        Path in = Files.write(dir.resolve("garbage.jfr"), bytes);
        Path out = dir.resolve("out.html");
        for (String[] command : new String[][] {{"summary", in.toString()}, {"flame", in.toString(), out.toString()},
                {"collapsed", in.toString(), out.toString()}, {"gate", in.toString(), in.toString()}}) {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            ByteArrayOutputStream e = new ByteArrayOutputStream();
            int exit = Main.run(command, new PrintStream(o), new PrintStream(e));
            String err = e.toString(StandardCharsets.UTF_8);
            assertEquals(2, exit, String.join(" ", command) + ": " + err + o);
            assertTrue(err.startsWith("convert: "), err);
            assertFalse(Files.exists(out), "no output for a bad input");
        }
    }
}
