package io.jfrebpf.events.read.pprof;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The protobuf wire format, as much as pprof needs: varints, packed repeated varints, strings
 * and nested messages. Hand-written on purpose: protobuf-java (1.7 MB) for six message types
 * would triple the agent jar (which carries this library), and its generated classes need protoc, which this build cannot run.
 */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoWriter varint(int field, long value) {
        if (value != 0) { // proto3: zero is the default and is not written
            tag(field, 0);
            raw(value);
        }
        return this;
    }

    ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8), true);
    }

    /** A string of a repeated field: written even when empty (the string table's first entry is ""). */
    ProtoWriter repeatedString(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8), false);
    }

    ProtoWriter message(int field, ProtoWriter message) {
        return bytes(field, message.toByteArray(), false);
    }

    ProtoWriter packed(int field, long[] values) {
        if (values.length == 0) {
            return this;
        }
        ProtoWriter body = new ProtoWriter();
        for (long v : values) {
            body.raw(v);
        }
        return bytes(field, body.toByteArray(), false);
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    /** Bytes written so far. */
    int size() {
        return out.size();
    }

    /** Appends what another writer holds: fields of the same message. */
    ProtoWriter append(ProtoWriter fields) {
        out.writeBytes(fields.out.toByteArray());
        return this;
    }

    /** The bytes of a varint. */
    static int varintSize(long value) {
        int n = 1;
        for (long v = value; (v & ~0x7FL) != 0; v >>>= 7) {
            n++;
        }
        return n;
    }

    private ProtoWriter bytes(int field, byte[] value, boolean skipEmpty) {
        if (skipEmpty && value.length == 0) {
            return this;
        }
        tag(field, 2);
        raw(value.length);
        out.write(value, 0, value.length);
        return this;
    }

    private void tag(int field, int wireType) {
        raw(((long) field << 3) | wireType);
    }

    private void raw(long value) {
        long v = value;
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }
}
