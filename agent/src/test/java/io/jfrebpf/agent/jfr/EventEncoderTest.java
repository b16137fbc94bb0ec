package io.jfrebpf.agent.jfr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The byte forms the JDK's and JMC's parsers read (their end-to-end reading is in ChunkRoundTripTest). */
class EventEncoderTest {
    @Test
    void varintsAreLeb128WithAFullNinthByte() {
        assertArrayEquals(bytes(0x00), encode(0));
        assertArrayEquals(bytes(0x7f), encode(127));
        assertArrayEquals(bytes(0x80, 0x01), encode(128));
        assertArrayEquals(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), encode(-1L));
        EventEncoder e = new EventEncoder();
        e.varInt(-1);
        assertArrayEquals(bytes(0xff, 0xff, 0xff, 0xff, 0x0f), e.toByteArray(), "an int is its unsigned 32 bits");
    }

    @Test
    void eventSizeIsAPaddedVarintCountingItself() {
        EventEncoder e = new EventEncoder();
        e.beginEvent(300);
        e.string("é");
        e.string(null);
        e.string("");
        e.endEvent();
        byte[] b = e.toByteArray();
        assertEquals(4 + 2 + 3 + 1 + 1, b.length);
        assertArrayEquals(bytes(0x80 | b.length, 0x80, 0x80, 0x00, 0xac, 0x02, 5, 1, 0xe9, 0, 1), b);
    }

    @Test
    void aPaddedVarintTakesFiveBytesWhateverItsValue() {
        EventEncoder e = new EventEncoder();
        int at = e.reservePaddedVarInt();
        e.paddedVarInt(at, 300);
        assertArrayEquals(bytes(0xac, 0x82, 0x80, 0x80, 0x00), e.toByteArray());
        assertThrows(IllegalArgumentException.class, () -> e.paddedVarInt(at, 1L << 35));
    }

    @Test
    void latinOneStringsAreBytesOthersUtf8AsTheJdkEncodesThem() {
        assertArrayEquals(bytes(5, 3, 'a', 0xe9, 0xff), string("aéÿ"), "every char fits a byte: Latin-1");
        String mixed = "数据\uD83D\uDCC1x";
        byte[] utf8 = mixed.getBytes(StandardCharsets.UTF_8);
        byte[] expected = new byte[2 + utf8.length];
        expected[0] = 3;
        expected[1] = (byte) utf8.length;
        System.arraycopy(utf8, 0, expected, 2, utf8.length);
        assertArrayEquals(expected, string(mixed));
        String lone = "a\uD800b\uDC00";
        byte[] asJdk = lone.getBytes(StandardCharsets.UTF_8);
        byte[] got = string(lone);
        assertEquals(3, got[0]);
        assertArrayEquals(asJdk, Arrays.copyOfRange(got, 2, got.length), "a lone surrogate is '?', as String.getBytes writes it");
    }

    @Test
    void aPooledStringIsItsKey() {
        EventEncoder e = new EventEncoder();
        e.pooledString(130);
        assertArrayEquals(bytes(2, 0x82, 0x01), e.toByteArray());
    }

    @Test
    void anAbandonedEventLeavesNothing() {
        EventEncoder e = new EventEncoder();
        e.beginEvent(1);
        e.varLong(5);
        e.abandonEvent();
        assertEquals(0, e.size());
    }

    @Test
    void aBufferGrownForAHugeEventShrinksWhenReset() {
        EventEncoder e = new EventEncoder(1024);
        e.raw(new byte[100_000], 0, 100_000);
        assertEquals(100_000, e.size());
        e.reset();
        assertEquals(0, e.size());
        e.varLong(1);
        assertArrayEquals(bytes(1), e.toByteArray());
    }

    /**
     * Streamed to a file through a small array, the bytes are those of the array grown to hold
     * them all: a padded varint filled in after its bytes went out lands in the file, a byte
     * run and a string longer than the array pass whole, and the array keeps its size.
     */
    @Test
    void streamedBytesAreTheSameAsBufferedOnesAndTheArrayDoesNotGrow(@TempDir Path dir) throws Exception {
        EventEncoder whole = new EventEncoder(64);
        fill(whole);
        EventEncoder small = new EventEncoder(64);
        Path file = dir.resolve("streamed");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {42, 43})); // the stream starts where the channel is
            small.streamTo(ch);
            fill(small);
            assertEquals(whole.size(), small.size(), "size counts what was streamed");
            small.writeTo(ch);
        }
        byte[] got = Files.readAllBytes(file);
        assertEquals(42, got[0]);
        assertEquals(43, got[1]);
        assertArrayEquals(whole.toByteArray(), Arrays.copyOfRange(got, 2, got.length));
        small.reset();
        small.varLong(7);
        assertArrayEquals(bytes(7), small.toByteArray(), "reset ends the streaming");
    }

    private static void fill(EventEncoder e) {
        int sizeAt = e.reservePaddedVarInt();
        for (int i = 0; i < 100; i++) {
            e.varLong(i * 1_000_003L);
            e.string("entry-" + i);
        }
        byte[] run = new byte[300];
        Arrays.fill(run, (byte) 9);
        e.raw(run, 0, run.length);
        e.string("x".repeat(200));
        e.string("数据".repeat(50));
        e.paddedVarInt(sizeAt, e.size());
    }

    private static byte[] string(String s) {
        EventEncoder e = new EventEncoder();
        e.string(s);
        return e.toByteArray();
    }

    private static byte[] encode(long v) {
        EventEncoder e = new EventEncoder();
        e.varLong(v);
        return e.toByteArray();
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
