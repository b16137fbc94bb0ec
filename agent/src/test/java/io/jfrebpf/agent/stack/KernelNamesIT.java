package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The kernel names its own addresses as /proc/kallsyms does (this machine's real kernel, the
 * real program): every text symbol's start and the byte after it name that symbol (or an alias
 * at its address), in batches past the program's 64; what no symbol holds stays unresolved.
 * Fails where the program cannot load: then every JVM here would fall back to reading kallsyms.
 */
class KernelNamesIT {
    @Test
    void namesWhatKallsymsNames() throws Exception {
        TreeMap<Long, Set<String>> text = new TreeMap<>(Long::compareUnsigned);
        for (String line : Files.readAllLines(Path.of("/proc/kallsyms"))) {
            String[] f = line.split("\\s+");
            if (f.length >= 3 && f[1].length() == 1 && "tTwW".contains(f[1]) && f.length == 3) { // the core kernel's
                long address = Long.parseUnsignedLong(f[0], 16);
                if (address != 0) {
                    text.computeIfAbsent(address, a -> new HashSet<>()).add(f[2]);
                }
            }
        }
        assertTrue(text.size() > 10_000, "kallsyms shows " + text.size() + " text addresses: run as root");
        List<Long> starts = new ArrayList<>(text.keySet());
        List<Long> pcs = new ArrayList<>();
        Map<Long, Long> expected = new HashMap<>();
        for (int i = 0; i + 1 < starts.size(); i += Math.max(1, starts.size() / 3000)) {
            long start = starts.get(i);
            pcs.add(start);
            expected.put(start, start);
            if (starts.get(i + 1) - start > 1) {
                pcs.add(start + 1);
                expected.put(start + 1, start);
            }
        }
        long[] in = pcs.stream().mapToLong(Long::longValue).toArray();
        long[] gotStarts = new long[in.length];
        String[] gotNames = new String[in.length];
        try (KernelNames names = KernelNames.load()) {
            names.resolve(in, in.length, gotStarts, gotNames);
            List<String> wrong = new ArrayList<>();
            for (int i = 0; i < in.length; i++) {
                long start = expected.get(in[i]);
                if (gotStarts[i] != start || gotNames[i] == null || !text.get(start).contains(gotNames[i])) {
                    wrong.add(Long.toHexString(in[i]) + ": " + gotNames[i] + " at " + Long.toHexString(gotStarts[i]) + ", kallsyms "
                            + text.get(start) + " at " + Long.toHexString(start));
                }
            }
            assertTrue(wrong.isEmpty(), wrong.size() + " of " + in.length + " pcs named otherwise than kallsyms: "
                    + wrong.subList(0, Math.min(10, wrong.size())));

            long[] outside = {0x1000L, 0x7f0000001000L};
            long[] s = new long[2];
            String[] n = new String[2];
            names.resolve(outside, 2, s, n);
            assertNull(n[0], "user addresses hold no kernel function");
            assertNull(n[1]);
            assertEquals(0, s[0]);

            names.close();
            names.resolve(in, 1, s, n);
            assertNull(n[0], "after close every pc stays unresolved");
        }
    }
}
