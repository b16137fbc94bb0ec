package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.os.Native;
import io.jfrebpf.agent.os.NativeFunction;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code const volatile} tunables of an object's {@code .rodata}, found by name through the
 * object's BTF (the DATASEC's variables and their offsets), written into the map's initial value
 * before load. Every setter checks the variable exists and has the size of the value.
 */
public final class Rodata {
    private static final int BTF_KIND_DATASEC = 15;
    private static final long BTF_TYPE_SIZE = 12;
    private static final long SECINFO_SIZE = 12;
    private static final NativeFunction FIND_BY_NAME_KIND = LibBpf.function("btf__find_by_name_kind");
    private static final NativeFunction TYPE_BY_ID = LibBpf.function("btf__type_by_id");
    private static final NativeFunction NAME_BY_OFFSET = LibBpf.function("btf__name_by_offset");

    private final BpfObject object;
    private final MemorySegment data;
    private final Map<String, long[]> variables = new LinkedHashMap<>();

    Rodata(BpfObject object, BpfMap map) throws BpfException {
        this.object = object;
        this.data = map.initialValue(object.arena());
        long btf = LibBpf.checkedPtr("bpf_object__btf(" + object.name() + ")", BpfObject.BTF.call(object.handle()));
        int id = (int) FIND_BY_NAME_KIND.call(btf, object.arena().allocateFrom(".rodata").address(), BTF_KIND_DATASEC);
        if (id < 0) {
            throw new BpfException("BPF object " + object.name() + " has no .rodata in its BTF", -id);
        }
        long type = LibBpf.checkedPtr("btf__type_by_id(" + object.name() + ", " + id + ")", TYPE_BY_ID.call(btf, id));
        int vlen = Native.segment(type, BTF_TYPE_SIZE).get(ValueLayout.JAVA_INT, 4) & 0xffff;
        MemorySegment infos = Native.segment(type, BTF_TYPE_SIZE + vlen * SECINFO_SIZE);
        for (int i = 0; i < vlen; i++) {
            long base = BTF_TYPE_SIZE + i * SECINFO_SIZE;
            int varType = infos.get(ValueLayout.JAVA_INT, base);
            long offset = Integer.toUnsignedLong(infos.get(ValueLayout.JAVA_INT, base + 4));
            long varSize = Integer.toUnsignedLong(infos.get(ValueLayout.JAVA_INT, base + 8));
            long var = TYPE_BY_ID.call(btf, varType);
            if (var == 0) {
                continue;
            }
            String name = LibBpf.string(NAME_BY_OFFSET.call(btf, Native.segment(var, BTF_TYPE_SIZE).get(ValueLayout.JAVA_INT, 0)));
            if (name != null && offset + varSize <= data.byteSize()) {
                variables.put(name, new long[] {offset, varSize});
            }
        }
    }

    private long offset(String name, long size) throws BpfException {
        if (object.isLoaded()) {
            throw new BpfException("BPF object " + object.name() + " is loaded: .rodata '" + name + "' can no longer change", 1);
        }
        long[] v = variables.get(name);
        if (v == null) {
            throw new BpfException("BPF object " + object.name() + " has no .rodata variable '" + name + "'; it has "
                    + variables.keySet(), 2);
        }
        if (v[1] != size) {
            throw new BpfException(".rodata variable '" + name + "' of " + object.name() + " has " + v[1]
                    + " bytes, not " + size, 22);
        }
        return v[0];
    }

    public Rodata setInt(String name, int value) throws BpfException {
        data.set(ValueLayout.JAVA_INT_UNALIGNED, offset(name, 4), value);
        return this;
    }

    public Rodata setLong(String name, long value) throws BpfException {
        data.set(ValueLayout.JAVA_LONG_UNALIGNED, offset(name, 8), value);
        return this;
    }

    public Rodata setBoolean(String name, boolean value) throws BpfException {
        data.set(ValueLayout.JAVA_BYTE, offset(name, 1), (byte) (value ? 1 : 0));
        return this;
    }

    public Rodata setBytes(String name, byte[] value) throws BpfException {
        MemorySegment.copy(MemorySegment.ofArray(value), 0, data, offset(name, value.length), value.length);
        return this;
    }

    /** The names of the tunables, for messages and tests. */
    public java.util.Set<String> names() {
        return variables.keySet();
    }
}
