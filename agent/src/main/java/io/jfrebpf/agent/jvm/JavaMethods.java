package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A HotSpot {@code Method*} as a Java method: holder class, name, descriptor and the line number
 * of a bci (from the method's compressed line number table). Read through {@link SafeMemory} and
 * checked for consistency (the holder's constant pool must be the method's), so a stale or
 * garbage pointer gives nothing rather than a wrong name or a crash. Cached, bounded.
 */
public final class JavaMethods {
    /** A resolved method; {@code lines} holds (bci, line) pairs as HotSpot stores them. */
    public record JavaMethod(String className, String name, String descriptor, boolean isNative, long constMethod,
            long bytecodeStart, int codeSize, int[] lines) {
        /** The source line of a bci: the entry with the greatest start bci at or below it; -1 if none. */
        public int line(int bci) {
            int bestBci = -1;
            int best = -1;
            for (int i = 0; i + 1 < lines.length; i += 2) {
                int start = lines[i];
                if (start == bci) {
                    return lines[i + 1];
                }
                if (start < bci && start >= bestBci) {
                    bestBci = start;
                    best = lines[i + 1];
                }
            }
            return best;
        }

        /** The bci of a bytecode pointer into this method's code; -1 outside it. */
        public int bci(long bcp) {
            long bci = bcp - bytecodeStart;
            return bci >= 0 && bci < Math.max(1, codeSize) ? (int) bci : -1;
        }
    }

    private static final int JVM_ACC_NATIVE = 0x0100;
    private static final int CACHE = 16_384;
    private static final int MAX_LINE_TABLE = 64 << 10;

    private final long methodConstMethod;
    private final long methodAccessFlags;
    private final long methodSize;
    private final long cmConstants;
    private final long cmFlags;
    private final long cmCodeSize;
    private final long cmNameIndex;
    private final long cmSignatureIndex;
    private final long cmSize;
    private final long cpPoolHolder;
    private final long cpLength;
    private final long cpSize;
    private final long klassName;
    private final long ikConstants;
    private final long symbolLength;
    private final long symbolBody;
    private final int hasLineNumberTable;
    private final Map<Long, Optional<JavaMethod>> cache = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Optional<JavaMethod>> eldest) {
            return size() > CACHE;
        }
    };

    private JavaMethods(VmStructs vm) {
        methodConstMethod = vm.requireField("Method", "_constMethod");
        methodAccessFlags = vm.requireField("Method", "_access_flags");
        methodSize = vm.requireSize("Method");
        cmConstants = vm.requireField("ConstMethod", "_constants");
        cmFlags = vm.requireField("ConstMethod", "_flags._flags");
        cmCodeSize = vm.requireField("ConstMethod", "_code_size");
        cmNameIndex = vm.requireField("ConstMethod", "_name_index");
        cmSignatureIndex = vm.requireField("ConstMethod", "_signature_index");
        cmSize = vm.requireSize("ConstMethod");
        cpPoolHolder = vm.requireField("ConstantPool", "_pool_holder");
        cpLength = vm.requireField("ConstantPool", "_length");
        cpSize = vm.requireSize("ConstantPool");
        klassName = vm.requireField("Klass", "_name");
        ikConstants = vm.requireField("InstanceKlass", "_constants");
        symbolLength = vm.requireField("Symbol", "_length");
        symbolBody = vm.requireField("Symbol", "_body[0]");
        hasLineNumberTable = vm.requireConstant("ConstMethodFlags::_misc_has_linenumber_table");
    }

    public static Optional<JavaMethods> load(VmStructs vm) {
        try {
            return Optional.of(new JavaMethods(vm));
        } catch (RuntimeException e) {
            Log.warn("Java frames cannot be named: %s", e.getMessage());
            return Optional.empty();
        }
    }

    /** Forgets every cached method: a class unloaded since may have left its Method* to another. */
    public synchronized void forget() {
        cache.clear();
    }

    /** The method at a {@code Method*}, or empty when the pointer does not lead to a consistent method. */
    public synchronized Optional<JavaMethod> method(long method) {
        if (method == 0 || (method & 7) != 0) {
            return Optional.empty();
        }
        Optional<JavaMethod> m = cache.get(method);
        if (m == null) {
            m = read(method);
            cache.put(method, m);
        }
        return m;
    }

    /**
     * The method at a {@code Method*}, read now whatever is cached (and cached anew): for a
     * {@code Method*} known to be live, such as one of an nmethod still in the code cache. A class
     * unloaded since the cached read may have left its metadata's space to another class, laid out
     * alike: the same {@code Method*} is then another method.
     */
    public synchronized Optional<JavaMethod> reread(long method) {
        if (method == 0 || (method & 7) != 0) {
            return Optional.empty();
        }
        Optional<JavaMethod> m = read(method);
        cache.put(method, m);
        return m;
    }

    private Optional<JavaMethod> read(long method) {
        ByteBuffer mb = SafeMemory.bytes(method, (int) methodSize);
        if (mb == null) {
            return Optional.empty();
        }
        long constMethod = mb.getLong((int) methodConstMethod);
        int access = Short.toUnsignedInt(mb.getShort((int) methodAccessFlags));
        ByteBuffer cm = constMethod == 0 || (constMethod & 7) != 0 ? null : SafeMemory.bytes(constMethod, (int) cmSize);
        if (cm == null) {
            return Optional.empty();
        }
        long cp = cm.getLong((int) cmConstants);
        int flags = cm.getInt((int) cmFlags);
        int codeSize = Short.toUnsignedInt(cm.getShort((int) cmCodeSize));
        int nameIndex = Short.toUnsignedInt(cm.getShort((int) cmNameIndex));
        int signatureIndex = Short.toUnsignedInt(cm.getShort((int) cmSignatureIndex));
        ByteBuffer cpb = cp == 0 || (cp & 7) != 0 ? null : SafeMemory.bytes(cp, (int) cpSize);
        if (cpb == null) {
            return Optional.empty();
        }
        long holder = cpb.getLong((int) cpPoolHolder);
        int length = cpb.getInt((int) cpLength);
        if (holder == 0 || nameIndex <= 0 || signatureIndex <= 0 || nameIndex >= length || signatureIndex >= length) {
            return Optional.empty();
        }
        // the holder's constant pool must be this one: a pointer into freed or foreign memory is not
        if (SafeMemory.readLong(holder + ikConstants, 0) != cp) {
            return Optional.empty();
        }
        String className = symbol(SafeMemory.readLong(holder + klassName, 0));
        String name = symbol(SafeMemory.readLong(cp + cpSize + 8L * nameIndex, 0));
        String descriptor = symbol(SafeMemory.readLong(cp + cpSize + 8L * signatureIndex, 0));
        if (!validClassName(className) || !validMethodName(name) || descriptor == null || !descriptor.startsWith("(")) {
            return Optional.empty();
        }
        boolean isNative = (access & JVM_ACC_NATIVE) != 0;
        long bytecodes = constMethod + cmSize;
        int[] lines = (flags & hasLineNumberTable) != 0
                ? lineTable(bytecodes + codeSize + (isNative ? 16 : 0))
                : new int[0];
        return Optional.of(new JavaMethod(className.replace('/', '.'), name, descriptor, isNative, constMethod,
                bytecodes, codeSize, lines));
    }

    private String symbol(long symbol) {
        if (symbol == 0 || (symbol & 7) != 0) {
            return null;
        }
        ByteBuffer head = SafeMemory.bytes(symbol, (int) symbolBody);
        if (head == null) {
            return null;
        }
        int length = Short.toUnsignedInt(head.getShort((int) symbolLength));
        if (length == 0) {
            return "";
        }
        byte[] bytes = new byte[length];
        return SafeMemory.read(symbol + symbolBody, bytes, 0, length) ? name(bytes) : null;
    }

    /**
     * A Symbol's bytes as a name, or null when they cannot be one: not UTF-8, or a control
     * character. A Method* whose class was unloaded can still pass the holder check for a while
     * and lead to a Symbol that was freed and reused: its bytes are then anything (ClassUnloadingIT
     * saw a "class name" of binary garbage).
     */
    static String name(byte[] bytes) {
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return null;
            }
        }
        return s;
    }

    /** JVMS 4.2.1: a class's binary name in internal form, never an array for a method's holder. */
    static boolean validClassName(String name) {
        return name != null && !name.isEmpty() && name.indexOf(';') < 0 && name.indexOf('.') < 0 && name.charAt(0) != '['
                && !name.startsWith("/") && !name.endsWith("/") && !name.contains("//");
    }

    /** JVMS 4.2.2: no . ; [ / in a method name, and < > only in <init> and <clinit>. */
    static boolean validMethodName(String name) {
        if (name == null || name.isEmpty()) {
            return false;
        }
        if (name.equals("<init>") || name.equals("<clinit>")) {
            return true;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '.' || c == ';' || c == '[' || c == '/' || c == '<' || c == '>') {
                return false;
            }
        }
        return true;
    }

    /** HotSpot's CompressedLineNumberReadStream: (bci, line) deltas, one byte or 0xFF + two signed UNSIGNED5. */
    private static int[] lineTable(long address) {
        int[] out = new int[32];
        int n = 0;
        int bci = 0;
        int line = 0;
        byte[] data = new byte[0];
        int pos = 0;
        while (pos < MAX_LINE_TABLE) {
            if (pos + 11 > data.length) {
                byte[] grown = Arrays.copyOf(data, data.length + 512);
                if (!SafeMemory.read(address + data.length, grown, data.length, 512)) {
                    break;
                }
                data = grown;
            }
            int next = Byte.toUnsignedInt(data[pos++]);
            if (next == 0) {
                break;
            }
            if (next == 0xFF) {
                Unsigned5 in = new Unsigned5(data, pos);
                int b = in.next();
                int l = in.next();
                if (b < 0 || l < 0) {
                    break;
                }
                bci += Unsigned5.decodeSign(b);
                line += Unsigned5.decodeSign(l);
                pos = in.position();
            } else {
                bci += next >> 3;
                line += next & 7;
            }
            if (n + 2 > out.length) {
                out = Arrays.copyOf(out, out.length * 2);
            }
            out[n++] = bci;
            out[n++] = line;
        }
        return Arrays.copyOf(out, n);
    }
}
