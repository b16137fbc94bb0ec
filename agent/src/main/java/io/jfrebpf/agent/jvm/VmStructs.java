package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.ProcMaps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * HotSpot's own description of its data structures ({@code gHotSpotVMStructs}, exported by
 * libjvm for serviceability agents): field offsets by type and field name. Read once, through
 * {@link SafeMemory}, so a libjvm without the table gives empty answers, never a crash.
 */
public final class VmStructs {
    private static final int MAX_ENTRIES = 20_000;
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
                long entry = table + i * stride;
                long typeName = SafeMemory.readLong(entry + typeNameOff).orElse(0);
                if (typeName == 0) {
                    break;
                }
                long fieldName = SafeMemory.readLong(entry + fieldNameOff).orElse(0);
                OptionalInt isStatic = SafeMemory.readInt(entry + isStaticOff);
                if (fieldName == 0 || isStatic.isEmpty()) {
                    continue;
                }
                String type = string(typeName);
                String field = string(fieldName);
                OptionalLong value = SafeMemory.readLong(entry + (isStatic.getAsInt() != 0 ? addressOff : offsetOff));
                if (type != null && field != null && value.isPresent()) {
                    (isStatic.getAsInt() != 0 ? statics : offsets).put(type + "::" + field, value.getAsLong());
                }
            }
            if (offsets.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new VmStructs(offsets, statics, typeSizes(jvm), intConstants(jvm)));
        } catch (RuntimeException e) {
            Log.debug("VMStructs unavailable: %s", e);
            return Optional.empty();
        }
    }

    /** sizeof of every type in gHotSpotVMTypes. */
    private static Map<String, Long> typeSizes(SymbolLookup jvm) {
        return namedTable(jvm, "gHotSpotVMTypes", "gHotSpotVMTypeEntryTypeNameOffset", "gHotSpotVMTypeEntrySizeOffset",
                "gHotSpotVMTypeEntryArrayStride", address -> SafeMemory.readLong(address).stream().boxed().findFirst());
    }

    /** Every int constant in gHotSpotVMIntConstants. */
    private static Map<String, Integer> intConstants(SymbolLookup jvm) {
        return namedTable(jvm, "gHotSpotVMIntConstants", "gHotSpotVMIntConstantEntryNameOffset",
                "gHotSpotVMIntConstantEntryValueOffset", "gHotSpotVMIntConstantEntryArrayStride",
                address -> SafeMemory.readInt(address).stream().boxed().findFirst());
    }

    /** A table of (name, value) entries ending at a null name, as HotSpot exports them for its serviceability agent. */
    private static <V> Map<String, V> namedTable(SymbolLookup jvm, String table, String nameOffset, String valueOffset,
            String strideName, java.util.function.Function<Long, Optional<V>> value) {
        long base = global(jvm, table);
        long nameOff = global(jvm, nameOffset);
        long valueOff = global(jvm, valueOffset);
        long stride = global(jvm, strideName);
        Map<String, V> entries = new HashMap<>();
        for (int i = 0; i < MAX_ENTRIES && stride > 0 && stride <= 1024; i++) {
            long entry = base + i * stride;
            long name = SafeMemory.readLong(entry + nameOff).orElse(0);
            if (name == 0) {
                break;
            }
            String key = string(name);
            Optional<V> v = value.apply(entry + valueOff);
            if (key != null && v.isPresent()) {
                entries.put(key, v.get());
            }
        }
        return entries;
    }

    private static long global(SymbolLookup jvm, String name) {
        MemorySegment s = jvm.find(name).orElseThrow(() -> new IllegalStateException("libjvm does not export " + name));
        return SafeMemory.readLong(s.address()).orElseThrow(() -> new IllegalStateException("cannot read " + name));
    }

    private static String string(long address) {
        return SafeMemory.cString(address, 256);
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
        return fieldOffset(type, field).orElseThrow(() -> new IllegalStateException("VMStructs lack " + type + "::" + field));
    }

    /** {@link #staticAddress}, or an IllegalStateException naming what is missing. */
    public long requireStatic(String type, String field) {
        return staticAddress(type, field).orElseThrow(() -> new IllegalStateException("VMStructs lack " + type + "::" + field));
    }

    /** {@link #typeSize}, or an IllegalStateException naming what is missing. */
    public long requireSize(String type) {
        return typeSize(type).orElseThrow(() -> new IllegalStateException("VMStructs lack sizeof(" + type + ")"));
    }

    /** {@link #intConstant}, or an IllegalStateException naming what is missing. */
    public int requireConstant(String name) {
        return intConstant(name).orElseThrow(() -> new IllegalStateException("VMStructs lack " + name));
    }

    /** The offset of a non-static field, e.g. ("JavaThread", "_osthread"). */
    public OptionalLong fieldOffset(String type, String field) {
        Long o = offsets.get(type + "::" + field);
        return o == null ? OptionalLong.empty() : OptionalLong.of(o);
    }
}
