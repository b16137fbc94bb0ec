package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.ProcMaps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * HotSpot's own description of its data structures ({@code gHotSpotVMStructs}, exported by
 * libjvm for serviceability agents): field offsets by type and field name. Read once, directly
 * (libjvm's own static data); a libjvm without the table gives empty answers.
 */
public final class VmStructs {
    private static final int MAX_ENTRIES = 20_000;
    /** HotSpot's type and field names are identifiers well under this. */
    private static final int MAX_NAME = 256;
    private final Map<String, Long> offsets;
    private final Map<String, Long> statics;
    private final Map<String, Long> sizes;
    private final Map<String, Integer> intConstants;

    private VmStructs(Map<String, Long> offsets, Map<String, Long> statics, Map<String, Long> sizes,
            Map<String, Integer> intConstants) {
        this.offsets = offsets;
        this.statics = statics;
        this.sizes = sizes;
        this.intConstants = intConstants;
    }

    private static Optional<VmStructs> loaded;

    /** The table of this JVM, read on first use (a few milliseconds) and kept. */
    public static synchronized Optional<VmStructs> load() {
        if (loaded == null) {
            loaded = read();
        }
        return loaded;
    }

    private static Optional<VmStructs> read() {
        try {
            Optional<Path> libjvm = ProcMaps.self().libjvm();
            if (libjvm.isEmpty()) {
                return Optional.empty();
            }
            SymbolLookup jvm = SymbolLookup.libraryLookup(libjvm.get(), Arena.global());
            long table = global(jvm, "gHotSpotVMStructs");
            long typeNameOff = global(jvm, "gHotSpotVMStructEntryTypeNameOffset");
            long fieldNameOff = global(jvm, "gHotSpotVMStructEntryFieldNameOffset");
            long offsetOff = global(jvm, "gHotSpotVMStructEntryOffsetOffset");
            long isStaticOff = global(jvm, "gHotSpotVMStructEntryIsStaticOffset");
            long addressOff = global(jvm, "gHotSpotVMStructEntryAddressOffset");
            long stride = global(jvm, "gHotSpotVMStructEntryArrayStride");
            if (table == 0 || stride <= 0 || stride > 1024) {
                return Optional.empty();
            }
            Map<String, Long> offsets = new HashMap<>();
            Map<String, Long> statics = new HashMap<>();
            for (int i = 0; i < MAX_ENTRIES; i++) {
                MemorySegment entry = MemorySegment.ofAddress(table + i * stride).reinterpret(stride);
                long typeName = entry.get(ValueLayout.JAVA_LONG_UNALIGNED, typeNameOff);
                if (typeName == 0) {
                    break;
                }
                long fieldName = entry.get(ValueLayout.JAVA_LONG_UNALIGNED, fieldNameOff);
                if (fieldName == 0) {
                    continue;
                }
                boolean isStatic = entry.get(ValueLayout.JAVA_INT_UNALIGNED, isStaticOff) != 0;
                long value = entry.get(ValueLayout.JAVA_LONG_UNALIGNED, isStatic ? addressOff : offsetOff);
                (isStatic ? statics : offsets).put(string(typeName) + "::" + string(fieldName), value);
            }
            if (offsets.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new VmStructs(offsets, statics, namedTable(jvm, "gHotSpotVMTypes",
                    "gHotSpotVMTypeEntryTypeNameOffset", "gHotSpotVMTypeEntrySizeOffset", "gHotSpotVMTypeEntryArrayStride", false),
                    intConstants(namedTable(jvm, "gHotSpotVMIntConstants", "gHotSpotVMIntConstantEntryNameOffset",
                            "gHotSpotVMIntConstantEntryValueOffset", "gHotSpotVMIntConstantEntryArrayStride", true))));
        } catch (RuntimeException e) {
            Log.debug("VMStructs unavailable: %s", e);
            return Optional.empty();
        }
    }

    private static Map<String, Integer> intConstants(Map<String, Long> values) {
        Map<String, Integer> ints = new HashMap<>(values.size() * 2);
        for (Map.Entry<String, Long> e : values.entrySet()) {
            ints.put(e.getKey(), (int) e.getValue().longValue());
        }
        return ints;
    }

    /**
     * A table of (name, value) entries ending at a null name, as HotSpot exports them for its
     * serviceability agent ({@code gHotSpotVMTypes}: sizeof as a uint64; {@code
     * gHotSpotVMIntConstants}: an int32).
     */
    private static Map<String, Long> namedTable(SymbolLookup jvm, String table, String nameOffset, String valueOffset,
            String strideName, boolean intValues) {
        long base = global(jvm, table);
        long nameOff = global(jvm, nameOffset);
        long valueOff = global(jvm, valueOffset);
        long stride = global(jvm, strideName);
        Map<String, Long> entries = new HashMap<>();
        if (base == 0 || stride <= 0 || stride > 1024) {
            return entries;
        }
        for (int i = 0; i < MAX_ENTRIES; i++) {
            MemorySegment entry = MemorySegment.ofAddress(base + i * stride).reinterpret(stride);
            long name = entry.get(ValueLayout.JAVA_LONG_UNALIGNED, nameOff);
            if (name == 0) {
                break;
            }
            long v = intValues ? entry.get(ValueLayout.JAVA_INT_UNALIGNED, valueOff)
                    : entry.get(ValueLayout.JAVA_LONG_UNALIGNED, valueOff);
            entries.put(string(name), v);
        }
        return entries;
    }

    /**
     * The value of one of libjvm's exported globals. This, the tables they point to and the
     * names in them are libjvm's own static data, mapped for as long as the process lives, so
     * they are read directly; {@link SafeMemory} is for what may go away under us.
     */
    private static long global(SymbolLookup jvm, String name) {
        Optional<MemorySegment> found = jvm.find(name);
        if (found.isEmpty()) {
            throw new IllegalStateException("libjvm does not export " + name);
        }
        MemorySegment s = found.get();
        return s.reinterpret(8).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    /** A NUL-terminated name in libjvm's read-only data, read byte by byte so that no read passes its NUL. */
    private static String string(long address) {
        MemorySegment s = MemorySegment.ofAddress(address).reinterpret(MAX_NAME);
        byte[] b = new byte[MAX_NAME];
        int n = 0;
        while (n < MAX_NAME) {
            byte c = s.get(ValueLayout.JAVA_BYTE, n);
            if (c == 0) {
                break;
            }
            b[n++] = c;
        }
        return new String(b, 0, n, StandardCharsets.ISO_8859_1);
    }

    /** The address of a static field, e.g. ("CodeCache", "_heaps"). */
    public OptionalLong staticAddress(String type, String field) {
        Long a = statics.get(type + "::" + field);
        return a == null ? OptionalLong.empty() : OptionalLong.of(a);
    }

    /** sizeof(type), e.g. "ConstMethod". */
    public OptionalLong typeSize(String type) {
        Long s = sizes.get(type);
        return s == null ? OptionalLong.empty() : OptionalLong.of(s);
    }

    /** A named int constant, e.g. "InvocationEntryBci". */
    public OptionalInt intConstant(String name) {
        Integer v = intConstants.get(name);
        return v == null ? OptionalInt.empty() : OptionalInt.of(v);
    }

    /** {@link #fieldOffset}, or an IllegalStateException naming what this JVM's table lacks. */
    public long requireField(String type, String field) {
        return required(offsets.get(type + "::" + field), type + "::" + field);
    }

    /** {@link #staticAddress}, or an IllegalStateException naming what is missing. */
    public long requireStatic(String type, String field) {
        return required(statics.get(type + "::" + field), type + "::" + field);
    }

    /** {@link #typeSize}, or an IllegalStateException naming what is missing. */
    public long requireSize(String type) {
        return required(sizes.get(type), "sizeof(" + type + ")");
    }

    /** {@link #intConstant}, or an IllegalStateException naming what is missing. */
    public int requireConstant(String name) {
        Integer v = intConstants.get(name);
        if (v == null) {
            throw new IllegalStateException("VMStructs lack " + name);
        }
        return v;
    }

    /** The offset of a non-static field, e.g. ("JavaThread", "_osthread"). */
    public OptionalLong fieldOffset(String type, String field) {
        Long o = offsets.get(type + "::" + field);
        return o == null ? OptionalLong.empty() : OptionalLong.of(o);
    }

    private static long required(Long value, String what) {
        if (value == null) {
            throw new IllegalStateException("VMStructs lack " + what);
        }
        return value;
    }
}
