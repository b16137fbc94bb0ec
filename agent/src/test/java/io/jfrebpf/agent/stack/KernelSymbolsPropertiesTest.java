package io.jfrebpf.agent.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The compact kallsyms table answers what the String-per-line one answered ({@link
 * KallsymsReference}): on this machine's /proc/kallsyms, on a large text that crosses the
 * reader's buffer many times, and on generated texts mixing good lines, other symbol types,
 * zero and malformed addresses, aliases, disorder, module suffixes and CR LF line ends.
 */
class KernelSymbolsPropertiesTest {
    private static final long BASE = 0xffffffff81000000L;

    static void sameAnswers(String text, long[] extra) throws IOException {
        KallsymsReference want = KallsymsReference.parse(text);
        Path file = Files.createTempFile("kallsyms", ".txt");
        try {
            Files.writeString(file, text);
            KernelSymbols got = KernelSymbols.load(file);
            for (long a : want.addresses()) {
                for (long d : new long[] {-1, 0, 1, 4095, KernelSymbols.MAX_FUNCTION_SIZE, KernelSymbols.MAX_FUNCTION_SIZE + 1}) {
                    assertEquals(want.symbol(a + d), got.symbol(a + d), () -> "at 0x" + Long.toHexString(a + d));
                }
            }
            for (long a : extra) {
                assertEquals(want.symbol(a), got.symbol(a), () -> "at 0x" + Long.toHexString(a));
            }
        } finally {
            Files.delete(file);
        }
    }

    @Example
    void thisMachinesKallsymsAsBefore() throws IOException {
        String text = Files.readString(Path.of("/proc/kallsyms"));
        KallsymsReference want = KallsymsReference.parse(text);
        assertTrue(want.count() > 10_000, "root reads kallsyms with addresses: " + want.count());
        sameAnswers(text, new long[] {0, 1, -1, BASE});
        KernelSymbols k = KernelSymbols.load();
        // the compact form: 12 heap bytes a symbol, names off the heap
        assertTrue(k.heapBytes() <= 12L * want.count() * 4 / 3 + 64, k.heapBytes() + " heap bytes for " + want.count());
        assertTrue(k.offHeapBytes() < text.length(), k.offHeapBytes() + " off-heap bytes");
    }

    @Example
    void aTextLargerThanTheReadBufferAsBefore() throws IOException {
        Random r = new Random(7);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 40_000; i++) {
            long a = BASE + (r.nextInt(1 << 24) & ~0xfL);
            b.append(Long.toHexString(a)).append(' ').append("tTwWdb".charAt(r.nextInt(6))).append(' ')
                    .append("fn_").append(Integer.toString(i, 36)).append("x".repeat(r.nextInt(40)));
            if (r.nextInt(5) == 0) {
                b.append("\t[mod").append(r.nextInt(9)).append(']');
            }
            b.append(r.nextInt(50) == 0 ? "\r\n" : "\n");
        }
        sameAnswers(b.toString(), new long[] {BASE, BASE - 1});
    }

    @Property(tries = 300)
    void generatedTextsAsBefore(@ForAll("kallsyms") String text, @ForAll("addresses") List<Long> probes) throws IOException {
        sameAnswers(text, probes.stream().mapToLong(Long::longValue).toArray());
    }

    /**
     * A read that fails midway (here after {@code cut} bytes, given a few at a time) keeps every
     * line it read whole, names included, and throws nothing.
     */
    @Property(tries = 200)
    void aReadThatFailsKeepsTheLinesBefore(@ForAll("kallsyms") String text, @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 2000) int cut,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 64) int piece) throws IOException {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int given = Math.min(cut, bytes.length);
        int whole = given;
        while (whole > 0 && bytes[whole - 1] != '\n' && bytes[whole - 1] != '\r') {
            whole--;
        }
        KallsymsReference want = KallsymsReference.parse(text.substring(0, whole));
        java.nio.channels.ReadableByteChannel failing = new java.nio.channels.ReadableByteChannel() {
            private int at;

            @Override
            public int read(java.nio.ByteBuffer dst) throws IOException {
                if (at == given) {
                    throw new IOException("gone");
                }
                int n = Math.min(Math.min(piece, dst.remaining()), given - at);
                dst.put(bytes, at, n);
                at += n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        KernelSymbols got = KernelSymbols.load(failing, "a failing read");
        assertEquals(want.count(), got.size() + duplicates(want), "symbols kept");
        for (long a : want.addresses()) {
            for (long d : new long[] {0, 1, KernelSymbols.MAX_FUNCTION_SIZE + 1}) {
                assertEquals(want.symbol(a + d), got.symbol(a + d), () -> "at 0x" + Long.toHexString(a + d));
            }
        }
    }

    /** Entries the reference keeps at an address it already has (the compact table keeps one an address). */
    private static int duplicates(KallsymsReference r) {
        return (int) (r.count() - java.util.Arrays.stream(r.addresses()).distinct().count());
    }

    @Example
    void anUnreadableFileResolvesNothing() throws IOException {
        Path dir = Files.createTempDirectory("kallsyms");
        try {
            assertEquals(0, KernelSymbols.load(dir.resolve("missing")).size());
            assertEquals(0, KernelSymbols.load(dir).size(), "a directory: opened, then the read fails");
            assertEquals(null, KernelSymbols.load(dir).symbol(BASE));
        } finally {
            Files.delete(dir);
        }
    }

    @Provide
    Arbitrary<List<Long>> addresses() {
        return Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(0, 1 << 20).map(d -> BASE + d)).list().ofMaxSize(20);
    }

    @Provide
    Arbitrary<String> kallsyms() {
        Arbitrary<String> address = Arbitraries.oneOf(
                Arbitraries.longs().between(0, 64).map(k -> Long.toHexString(BASE + k * 0x100)),
                Arbitraries.of("0000000000000000", "+ffffffff81000010", "ffffffff8100001g", "10000000000000000", "", "-1",
                        "00000000000000000ffffffff81000020"));
        Arbitrary<String> type = Arbitraries.of("t", "T", "w", "W", "d", "D", "b", "r", "A", "tt", "");
        Arbitrary<String> name = Arbitraries.strings().withChars("abcxyz_09.").ofMinLength(0).ofMaxLength(12);
        Arbitrary<String> module = Arbitraries.of("", "\t[ext4]", "\t[bpf]", "\t");
        Arbitrary<String> good = Combinators.combine(address, type, name, module).as((a, t, n, m) -> a + " " + t + " " + n + m);
        Arbitrary<String> garbage = Arbitraries.strings().withChars("0123456789abcdefTt \t+\r").ofMaxLength(30);
        Arbitrary<String> line = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(8, good), net.jqwik.api.Tuple.of(1, garbage));
        return Combinators.combine(line.list().ofMaxSize(40), Arbitraries.of("\n", "\r\n", "\r"), Arbitraries.of(true, false))
                .as((lines, end, last) -> String.join(end, lines) + (last ? end : ""));
    }
}
