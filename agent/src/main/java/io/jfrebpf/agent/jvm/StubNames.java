package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.ElfFiles;
import io.jfrebpf.agent.os.ProcMaps;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The names of the stubs inside HotSpot's stub buffers: the code cache knows only the buffer
 * ("StubRoutines (compilerstubs)"), where the intrinsics' work is done (sha256_implCompressMB,
 * vectorizedMismatch, ...). HotSpot keeps each stub's entry in a static of StubRoutines
 * ({@code StubRoutines::_sha256_implCompressMB}, {@code StubRoutines::x86::_...}), which libjvm's
 * symbol table lists: their values, read from this JVM, are the entries, and a pc is named by the
 * nearest entry at or before it in the same buffer. Read once, when a stub frame is first named.
 */
public final class StubNames {
    private static final String PREFIX = "_ZN12StubRoutines";
    private static final int MAX_STUBS = 4096;
    /** (entry, index) pairs by unsigned entry; a class, not a lambda (a spun class at start-up). */
    private static final Comparator<long[]> BY_ENTRY = new Comparator<>() {
        @Override
        public int compare(long[] a, long[] b) {
            return Long.compareUnsigned(a[0], b[0]);
        }
    };

    private final long[] entries;
    private final String[] names;

    private StubNames(long[] entries, String[] names) {
        this.entries = entries;
        this.names = names;
    }

    /** The stubs of this JVM whose entries lie in its code cache, or empty with the reason logged. */
    public static Optional<StubNames> load(CodeCache code) {
        long start = System.nanoTime();
        try {
            Optional<Path> mapped = ProcMaps.selfAtStart().libjvm();
            if (mapped.isEmpty()) {
                throw new IllegalStateException("libjvm not mapped");
            }
            Path libjvm = mapped.get();
            ProcMaps.Mapping first = null; // its mapping of the lowest file offset
            for (ProcMaps.Mapping m : ProcMaps.selfAtStart().mappings()) {
                if (libjvm.toString().equals(m.path()) && (first == null || m.offset() < first.offset())) {
                    first = m;
                }
            }
            if (first == null) {
                throw new IllegalStateException("libjvm is not mapped");
            }
            List<ElfFile.Symbol> symbols;
            long[] addresses;
            try (ElfFile elf = ElfFiles.open(libjvm)) {
                symbols = elf.dataSymbolsStartingWith(PREFIX, MAX_STUBS);
                addresses = new long[symbols.size()];
                for (int i = 0; i < addresses.length; i++) {
                    addresses[i] = elf.runtimeAddress(symbols.get(i).value(), first.start(), first.offset());
                }
            }
            long[][] pairs = new long[symbols.size()][];
            String[] byIndex = new String[pairs.length];
            int n = 0;
            for (int i = 0; i < addresses.length; i++) {
                ElfFile.Symbol s = symbols.get(i);
                String name = lastName(s.name());
                if (s.size() != 8 || name == null) {
                    continue;
                }
                long entry = SafeMemory.readLong(addresses[i], 0); // 0, unreadable, is in no code
                if (code.contains(entry) && !code.inInterpreter(entry)) {
                    byIndex[n] = name;
                    pairs[n] = new long[] {entry, n};
                    n++;
                }
            }
            long[][] sorted = Arrays.copyOf(pairs, n);
            Arrays.sort(sorted, BY_ENTRY);
            long[] entries = new long[n];
            String[] names = new String[n];
            for (int i = 0; i < n; i++) {
                entries[i] = sorted[i][0];
                names[i] = byIndex[(int) sorted[i][1]];
            }
            Log.debug("stub names: %d entries from libjvm's StubRoutines in %.1f ms", n, (System.nanoTime() - start) / 1e6);
            return Optional.of(new StubNames(entries, names));
        } catch (Exception e) {
            Log.debug("stubs are named by their buffer only: %s", e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * The last component of a mangled nested name ({@code _ZN12StubRoutines3x8610_d2i_fixupE} ->
     * {@code d2i_fixup}), without the field's leading underscore; null if it is not one.
     */
    static String lastName(String mangled) {
        if (!mangled.startsWith("_ZN") || !mangled.endsWith("E")) {
            return null;
        }
        int at = 3;
        String last = null;
        while (at < mangled.length() - 1) {
            int digits = at;
            while (digits < mangled.length() && Character.isDigit(mangled.charAt(digits))) {
                digits++;
            }
            if (digits == at || digits - at > 4) {
                return null;
            }
            int len = Integer.parseInt(mangled.substring(at, digits));
            if (len <= 0 || digits + len > mangled.length() - 1) {
                return null;
            }
            last = mangled.substring(digits, digits + len);
            at = digits + len;
        }
        if (last == null || last.length() < 2 || last.charAt(0) != '_') {
            return null;
        }
        return last.substring(1);
    }

    /** The stub at pc in a stub buffer that begins at codeBegin: the nearest entry at or before pc inside it. */
    public Optional<String> at(long pc, long codeBegin) {
        int lo = 0;
        int hi = entries.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(entries[mid], pc) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        int i = lo - 1;
        return i >= 0 && Long.compareUnsigned(entries[i], codeBegin) >= 0 ? Optional.of(names[i]) : Optional.empty();
    }

    public int size() {
        return entries.length;
    }

    /** The distinct entries, sorted: where the stubs begin (for the kernel's walk, bpf/stack.bpf.h). */
    public long[] entries() {
        long[] distinct = new long[entries.length]; // sorted: equal entries are neighbours
        int n = 0;
        for (long e : entries) {
            if (n == 0 || distinct[n - 1] != e) {
                distinct[n++] = e;
            }
        }
        return Arrays.copyOf(distinct, n);
    }
}
