package io.jfrebpf.agent.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** HotSpot's UNSIGNED5 against an encoder written from its specification (unsigned5.hpp). */
class Unsigned5Test {
    /** encode_uint: X=1 excluded byte, L=191 low bytes, H=64 high bytes, at most 5 bytes. */
    static void encode(int value, ByteArrayOutputStream out) {
        long sum = Integer.toUnsignedLong(value);
        for (int i = 0; ; i++) {
            if (sum < 191 || i == 4) {
                out.write((int) (sum + 1));
                return;
            }
            sum -= 191;
            out.write((int) (192 + (sum & 63)));
            sum >>>= 6;
        }
    }

    @Property
    void roundTrips(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int a, @ForAll @IntRange(min = 0, max = 70_000) int b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        encode(a, out);
        encode(b, out);
        Unsigned5 in = new Unsigned5(out.toByteArray(), 0);
        assertEquals(a, in.next());
        assertEquals(b, in.next());
        assertEquals(-1, in.next());
    }

    @Test
    void knownEncodingsAndMalformedInput() {
        assertEquals(0, new Unsigned5(new byte[] {1}, 0).next());
        assertEquals(190, new Unsigned5(new byte[] {(byte) 191}, 0).next());
        assertEquals(191, new Unsigned5(new byte[] {(byte) 192, 1}, 0).next());
        assertEquals(-1, new Unsigned5(new byte[] {0}, 0).next());
        assertEquals(-1, new Unsigned5(new byte[] {(byte) 200}, 0).next()); // continuation past the end
        assertEquals(-1, new Unsigned5(new byte[] {(byte) 200, 0}, 0).next());
        assertEquals(-3, Unsigned5.decodeSign(5));
        assertEquals(2, Unsigned5.decodeSign(4));
    }
}
