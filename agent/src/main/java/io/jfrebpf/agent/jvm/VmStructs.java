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
import java.util.OptionalLong;

/**
 * HotSpot's own description of its data structures ({@code gHotSpotVMStructs}, exported by
 * libjvm for serviceability agents): field offsets by type and field name. Read once, through
 * {@link SafeMemory}, so a libjvm without the table gives empty answers, never a crash.
 */
public final class VmStructs {
    private static final int MAX_ENTRIES = 20_000;
    private final Map<String, Long> offsets;

    private VmStructs(Map<String, Long> offsets) {
        this.offsets = offsets;
    }

    public static Optional<VmStructs> load() {
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
            long stride = global(jvm, "gHotSpotVMStructEntryArrayStride");
            if (table == 0 || stride <= 0 || stride > 1024) {
                return Optional.empty();
            }
            Map<String, Long> offsets = new HashMap<>();
            for (int i = 0; i < MAX_ENTRIES; i++) {
                long entry = table + i * stride;
                long typeName = SafeMemory.readLong(entry + typeNameOff).orElse(0);
                if (typeName == 0) {
                    break;
                }
                long fieldName = SafeMemory.readLong(entry + fieldNameOff).orElse(0);
                int isStatic = SafeMemory.readInt(entry + isStaticOff).orElse(1);
                if (fieldName == 0 || isStatic != 0) {
                    continue;
                }
                String type = string(typeName);
                String field = string(fieldName);
                OptionalLong offset = SafeMemory.readLong(entry + offsetOff);
                if (type != null && field != null && offset.isPresent()) {
                    offsets.put(type + "::" + field, offset.getAsLong());
                }
            }
            return offsets.isEmpty() ? Optional.empty() : Optional.of(new VmStructs(offsets));
        } catch (RuntimeException e) {
            Log.debug("VMStructs unavailable: %s", e);
            return Optional.empty();
        }
    }

    private static long global(SymbolLookup jvm, String name) {
        MemorySegment s = jvm.find(name).orElseThrow(() -> new IllegalStateException("libjvm does not export " + name));
        return SafeMemory.readLong(s.address()).orElseThrow(() -> new IllegalStateException("cannot read " + name));
    }

    private static String string(long address) {
        StringBuilder b = new StringBuilder();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(64);
            for (int chunk = 0; chunk < 4; chunk++) {
                if (!SafeMemory.read(address + chunk * 64L, buf)) {
                    return b.isEmpty() ? null : b.toString();
                }
                for (int i = 0; i < 64; i++) {
                    byte c = buf.get(ValueLayout.JAVA_BYTE, i);
                    if (c == 0) {
                        return b.toString();
                    }
                    b.append((char) c);
                }
            }
        }
        return b.toString();
    }

    /** The offset of a non-static field, e.g. ("JavaThread", "_osthread"). */
    public OptionalLong fieldOffset(String type, String field) {
        Long o = offsets.get(type + "::" + field);
        return o == null ? OptionalLong.empty() : OptionalLong.of(o);
    }
}
