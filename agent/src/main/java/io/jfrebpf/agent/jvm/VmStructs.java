package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.ProcMaps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * HotSpot's own description of its data structures ({@code gHotSpotVMStructs}, exported by
 * libjvm for serviceability agents): field offsets by type and field name. Read once, directly
 * (libjvm's own static data); a libjvm without the table gives empty answers.
 *
 * <p>The tables are copied in bulk (a copy per few dozen entries and one per name, bounded by
 * the mapping that holds them), and a name is read once per address: the struct table has
 * about 2,000 entries but some 600 type names, and only the fields of the few types asked for
 * are named, when first asked for. Reading every name byte by byte into a map of
 * "type::field" strings cost ~30 ms of the agent thread's start-up, plus the JIT work its
 * hundred thousand FFM reads and string and map operations drew.
 */
public final class VmStructs {
    private static final int MAX_ENTRIES = 20_000;
    /** HotSpot's type and field names are identifiers well under this. */
    private static final int MAX_NAME = 256;
    /** Table entries copied at a time. */
    private static final int CHUNK_ENTRIES = 64;

    private final Reader reader;
    /** The struct entries: type and field name addresses, static flag, offset or address. */
    private final long[] fieldNames;
    private final boolean[] isStatic;
    private final long[] values;
    /** Type name → indexes of its struct entries. */
    private final Map<String, int[]> byType;
    private final Map<String, Long> sizes;
    private final long[] constantNames;
    private final long[] constantValues;
    /** Made at the first constant asked for. */
    private Map<String, Integer> intConstants;

    private VmStructs(Reader reader, long[] fieldNames, boolean[] isStatic, long[] values, Map<String, int[]> byType,
            Map<String, Long> sizes, long[] constantNames, long[] constantValues) {
        this.reader = reader;
        this.fieldNames = fieldNames;
        this.isStatic = isStatic;
        this.values = values;
        this.byType = byType;
        this.sizes = sizes;
        this.constantNames = constantNames;
        this.constantValues = constantValues;
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
            ProcMaps maps = ProcMaps.selfAtStart();
            Optional<Path> libjvm = maps.libjvm();
            if (libjvm.isEmpty()) {
                return Optional.empty();
            }
            SymbolLookup jvm = SymbolLookup.libraryLookup(libjvm.get(), Arena.global());
            Reader reader = new Reader(maps);
            long table = global(jvm, "gHotSpotVMStructs");
            int typeNameOff = (int) global(jvm, "gHotSpotVMStructEntryTypeNameOffset");
            int fieldNameOff = (int) global(jvm, "gHotSpotVMStructEntryFieldNameOffset");
            int offsetOff = (int) global(jvm, "gHotSpotVMStructEntryOffsetOffset");
            int isStaticOff = (int) global(jvm, "gHotSpotVMStructEntryIsStaticOffset");
            int addressOff = (int) global(jvm, "gHotSpotVMStructEntryAddressOffset");
            int stride = (int) global(jvm, "gHotSpotVMStructEntryArrayStride");
            if (table == 0 || stride <= 0 || stride > 1024) {
                return Optional.empty();
            }
            long[] typeNames = new long[256];
            long[] fieldNames = new long[256];
            boolean[] statics = new boolean[256];
            long[] values = new long[256];
            int n = 0;
            ByteBuffer chunk = null;
            int inChunk = 0;
            for (int i = 0; i < MAX_ENTRIES; i++, inChunk++) {
                if (chunk == null || (inChunk + 1) * stride > chunk.limit()) {
                    chunk = reader.copy(table + (long) i * stride, CHUNK_ENTRIES * stride);
                    inChunk = 0;
                    if (chunk.limit() < stride) {
                        throw new IllegalStateException("gHotSpotVMStructs runs past its mapping");
                    }
                }
                int at = inChunk * stride;
                long typeName = chunk.getLong(at + typeNameOff);
                if (typeName == 0) {
                    break;
                }
                long fieldName = chunk.getLong(at + fieldNameOff);
                if (fieldName == 0) {
                    continue;
                }
                if (n == typeNames.length) {
                    typeNames = Arrays.copyOf(typeNames, n * 2);
                    fieldNames = Arrays.copyOf(fieldNames, n * 2);
                    statics = Arrays.copyOf(statics, n * 2);
                    values = Arrays.copyOf(values, n * 2);
                }
                boolean isStatic = chunk.getInt(at + isStaticOff) != 0;
                typeNames[n] = typeName;
                fieldNames[n] = fieldName;
                statics[n] = isStatic;
                values[n] = chunk.getLong(at + (isStatic ? addressOff : offsetOff));
                n++;
            }
            if (n == 0) {
                return Optional.empty();
            }
            Map<String, int[]> byType = new HashMap<>();
            for (int i = 0; i < n; i++) {
                String type = reader.name(typeNames[i]);
                int[] entries = byType.get(type);
                entries = entries == null ? new int[1] : Arrays.copyOf(entries, entries.length + 1);
                entries[entries.length - 1] = i;
                byType.put(type, entries);
            }
            long[][] types = namedTable(jvm, reader, "gHotSpotVMTypes", "gHotSpotVMTypeEntryTypeNameOffset",
                    "gHotSpotVMTypeEntrySizeOffset", "gHotSpotVMTypeEntryArrayStride", false);
            Map<String, Long> sizes = new HashMap<>(types[0].length * 2);
            for (int i = 0; i < types[0].length; i++) {
                sizes.put(reader.name(types[0][i]), types[1][i]);
            }
            long[][] constants = namedTable(jvm, reader, "gHotSpotVMIntConstants", "gHotSpotVMIntConstantEntryNameOffset",
                    "gHotSpotVMIntConstantEntryValueOffset", "gHotSpotVMIntConstantEntryArrayStride", true);
            return Optional.of(new VmStructs(reader, Arrays.copyOf(fieldNames, n), Arrays.copyOf(statics, n),
                    Arrays.copyOf(values, n), byType, sizes, constants[0], constants[1]));
        } catch (RuntimeException e) {
            Log.debug("VMStructs unavailable: %s", e);
            return Optional.empty();
        }
    }

    /**
     * A table of (name, value) entries ending at a null name, as HotSpot exports them for its
     * serviceability agent ({@code gHotSpotVMTypes}: sizeof as a uint64; {@code
     * gHotSpotVMIntConstants}: an int32): the names' addresses and the values.
     */
    private static long[][] namedTable(SymbolLookup jvm, Reader reader, String table, String nameOffset, String valueOffset,
            String strideName, boolean intValues) {
        long base = global(jvm, table);
        int nameOff = (int) global(jvm, nameOffset);
        int valueOff = (int) global(jvm, valueOffset);
        int stride = (int) global(jvm, strideName);
        long[] names = new long[256];
        long[] values = new long[256];
        int n = 0;
        if (base == 0 || stride <= 0 || stride > 1024) {
            return new long[][] {new long[0], new long[0]};
        }
        ByteBuffer chunk = null;
        int inChunk = 0;
        for (int i = 0; i < MAX_ENTRIES; i++, inChunk++) {
            if (chunk == null || (inChunk + 1) * stride > chunk.limit()) {
                chunk = reader.copy(base + (long) i * stride, CHUNK_ENTRIES * stride);
                inChunk = 0;
                if (chunk.limit() < stride) {
                    throw new IllegalStateException(table + " runs past its mapping");
                }
            }
            int at = inChunk * stride;
            long name = chunk.getLong(at + nameOff);
            if (name == 0) {
                break;
            }
            if (n == names.length) {
                names = Arrays.copyOf(names, n * 2);
                values = Arrays.copyOf(values, n * 2);
            }
            names[n] = name;
            values[n] = intValues ? chunk.getInt(at + valueOff) : chunk.getLong(at + valueOff);
            n++;
        }
        return new long[][] {Arrays.copyOf(names, n), Arrays.copyOf(values, n)};
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

    /**
     * Bulk copies of libjvm's static data, each bounded by the end of the mapping that holds its
     * start (no copy runs into an unmapped page), and its names, read once per address.
     */
    private static final class Reader {
        private final ProcMaps maps;
        private final Map<Long, String> names = new HashMap<>();
        private ProcMaps.Mapping last;

        Reader(ProcMaps maps) {
            this.maps = maps;
        }

        /** Up to {@code max} bytes at {@code address}, fewer where its mapping ends; little-endian. */
        ByteBuffer copy(long address, int max) {
            ProcMaps.Mapping m = last;
            if (m == null || address < m.start() || address >= m.end()) {
                m = null;
                for (ProcMaps.Mapping candidate : maps.mappings()) {
                    if (address >= candidate.start() && address < candidate.end()) {
                        m = candidate;
                        break;
                    }
                }
                if (m == null) {
                    throw new IllegalStateException("0x" + Long.toHexString(address) + " is in no mapping of this process");
                }
                last = m;
            }
            byte[] bytes = new byte[(int) Math.min(max, m.end() - address)];
            // segment to segment: the copy into an array's overload costs a type switch's bootstrap at its first call
            MemorySegment.copy(MemorySegment.ofAddress(address).reinterpret(bytes.length), 0, MemorySegment.ofArray(bytes), 0,
                    bytes.length);
            return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        /** The NUL-terminated name at {@code address}. */
        String name(long address) {
            String name = names.get(address);
            if (name == null) {
                ByteBuffer b = copy(address, MAX_NAME);
                byte[] bytes = b.array();
                int n = 0;
                while (n < bytes.length && bytes[n] != 0) {
                    n++;
                }
                name = new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
                names.put(address, name);
            }
            return name;
        }
    }

    /** The offset or address of ({@code type}, {@code field}), null when the table has no such entry. */
    private synchronized Long entry(String type, String field, boolean wantStatic) {
        int[] entries = byType.get(type);
        if (entries == null) {
            return null;
        }
        for (int i : entries) {
            if (isStatic[i] == wantStatic && reader.name(fieldNames[i]).equals(field)) {
                return values[i];
            }
        }
        return null;
    }

    private synchronized Integer constant(String name) {
        if (intConstants == null) {
            Map<String, Integer> ints = new HashMap<>(constantNames.length * 2);
            for (int i = 0; i < constantNames.length; i++) {
                ints.put(reader.name(constantNames[i]), (int) constantValues[i]);
            }
            intConstants = ints;
        }
        return intConstants.get(name);
    }

    /** The address of a static field, e.g. ("CodeCache", "_heaps"). */
    public OptionalLong staticAddress(String type, String field) {
        Long a = entry(type, field, true);
        return a == null ? OptionalLong.empty() : OptionalLong.of(a);
    }

    /** sizeof(type), e.g. "ConstMethod". */
    public OptionalLong typeSize(String type) {
        Long s = sizes.get(type);
        return s == null ? OptionalLong.empty() : OptionalLong.of(s);
    }

    /** A named int constant, e.g. "InvocationEntryBci". */
    public OptionalInt intConstant(String name) {
        Integer v = constant(name);
        return v == null ? OptionalInt.empty() : OptionalInt.of(v);
    }

    /** {@link #fieldOffset}, or an IllegalStateException naming what this JVM's table lacks. */
    public long requireField(String type, String field) {
        return required(entry(type, field, false), type + "::" + field);
    }

    /** {@link #staticAddress}, or an IllegalStateException naming what is missing. */
    public long requireStatic(String type, String field) {
        return required(entry(type, field, true), type + "::" + field);
    }

    /** {@link #typeSize}, or an IllegalStateException naming what is missing. */
    public long requireSize(String type) {
        return required(sizes.get(type), "sizeof(" + type + ")");
    }

    /** {@link #intConstant}, or an IllegalStateException naming what is missing. */
    public int requireConstant(String name) {
        Integer v = constant(name);
        if (v == null) {
            throw new IllegalStateException("VMStructs lack " + name);
        }
        return v;
    }

    /** The offset of a non-static field, e.g. ("JavaThread", "_osthread"). */
    public OptionalLong fieldOffset(String type, String field) {
        Long o = entry(type, field, false);
        return o == null ? OptionalLong.empty() : OptionalLong.of(o);
    }

    private static long required(Long value, String what) {
        if (value == null) {
            throw new IllegalStateException("VMStructs lack " + what);
        }
        return value;
    }
}
