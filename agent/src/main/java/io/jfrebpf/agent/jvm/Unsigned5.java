package io.jfrebpf.agent.jvm;

/**
 * HotSpot's UNSIGNED5 integers (compressedStream.hpp / unsigned5.hpp), the encoding of its debug
 * information and line number tables: 1 to 5 bytes, never a zero byte. Malformed input reads as -1.
 */
final class Unsigned5 {
    private static final int X = 1;
    private static final int L = 191;
    private static final int LG_H = 6;
    private final byte[] data;
    private int position;

    Unsigned5(byte[] data, int position) {
        this.data = data;
        this.position = position;
    }

    int position() {
        return position;
    }

    /** The next value, or -1 past the end or on a malformed byte. */
    int next() {
        if (position < 0 || position >= data.length) {
            return -1;
        }
        int b0 = Byte.toUnsignedInt(data[position]);
        if (b0 < X) {
            return -1;
        }
        int sum = b0 - X;
        if (sum < L) {
            position++;
            return sum;
        }
        int shift = LG_H;
        for (int i = 1; i < 5; i++) {
            if (position + i >= data.length) {
                return -1;
            }
            int bi = Byte.toUnsignedInt(data[position + i]);
            if (bi < X) {
                return -1;
            }
            sum += (bi - X) << shift;
            if (bi < X + L || i == 4) {
                position += i + 1;
                return sum;
            }
            shift += LG_H;
        }
        return -1;
    }

    /** The sign folding of signed values: 0, -1, 1, -2, ... are 0, 1, 2, 3, ... */
    static int decodeSign(int value) {
        return (value >>> 1) ^ -(value & 1);
    }
}
