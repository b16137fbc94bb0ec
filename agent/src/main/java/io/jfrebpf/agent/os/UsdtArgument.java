package io.jfrebpf.agent.os;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where an x86_64 USDT argument is, from its spec in the note ({@code 8@%rdi}, {@code -4@%r13d},
 * {@code 8@-144(%rbp)}, {@code 4@$5}): a register (its offset in the kernel's
 * {@code struct pt_regs}, as a BPF program reads it from its context), or memory at a register
 * plus a displacement. Constants, %rip-relative and indexed forms are {@link Kind#NONE}: the
 * probes read here do not need them.
 */
public record UsdtArgument(int size, boolean signed, Kind kind, int ptRegsOffset, int displacement) {
    public enum Kind {
        NONE, REGISTER, MEMORY
    }

    public static final UsdtArgument NONE = new UsdtArgument(0, false, Kind.NONE, 0, 0);

    /** struct pt_regs of x86_64 (arch/x86/include/asm/ptrace.h), each register by all its names. */
    static final Map<String, Integer> PT_REGS = Map.ofEntries(
            reg("r15", 0), reg("r14", 8), reg("r13", 16), reg("r12", 24), reg("rbp", 32), reg("ebp", 32), reg("bp", 32),
            reg("bpl", 32), reg("rbx", 40), reg("ebx", 40), reg("bx", 40), reg("bl", 40), reg("r11", 48), reg("r10", 56),
            reg("r9", 64), reg("r8", 72), reg("rax", 80), reg("eax", 80), reg("ax", 80), reg("al", 80), reg("rcx", 88),
            reg("ecx", 88), reg("cx", 88), reg("cl", 88), reg("rdx", 96), reg("edx", 96), reg("dx", 96), reg("dl", 96),
            reg("rsi", 104), reg("esi", 104), reg("si", 104), reg("sil", 104), reg("rdi", 112), reg("edi", 112),
            reg("di", 112), reg("dil", 112), reg("rsp", 152), reg("esp", 152), reg("sp", 152), reg("spl", 152));

    private static final Pattern SPEC = Pattern.compile("(-?\\d+)@(.+)");
    private static final Pattern REGISTER = Pattern.compile("%([a-z0-9]+)");
    private static final Pattern MEMORY = Pattern.compile("(-?\\d+)?\\(%([a-z0-9]+)\\)");

    private static Map.Entry<String, Integer> reg(String name, int offset) {
        return Map.entry(name, offset);
    }

    /** The argument of a spec; {@link #NONE} for forms not read, an IllegalArgumentException for malformed ones. */
    public static UsdtArgument parse(String spec) {
        Matcher m = SPEC.matcher(spec.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("USDT argument '" + spec + "' is not size@location");
        }
        int size = Integer.parseInt(m.group(1));
        boolean signed = size < 0;
        size = Math.abs(size);
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new IllegalArgumentException("USDT argument '" + spec + "' has size " + size);
        }
        String location = m.group(2);
        Matcher r = REGISTER.matcher(location);
        if (r.matches()) {
            Integer offset = registerOffset(r.group(1));
            return offset == null ? NONE : new UsdtArgument(size, signed, Kind.REGISTER, offset, 0);
        }
        Matcher mem = MEMORY.matcher(location);
        if (mem.matches()) {
            Integer offset = registerOffset(mem.group(2));
            long displacement = mem.group(1) == null ? 0 : Long.parseLong(mem.group(1));
            if (offset == null || displacement != (int) displacement) {
                return NONE;
            }
            return new UsdtArgument(size, signed, Kind.MEMORY, offset, (int) displacement);
        }
        return NONE; // $constant, sym(%rip), (%reg,%reg,scale)
    }

    private static Integer registerOffset(String name) {
        Integer offset = PT_REGS.get(name);
        if (offset != null) {
            return offset;
        }
        Matcher m = Pattern.compile("r(8|9|1[0-5])[dwb]?").matcher(name); // r13d, r8w, r10b
        return m.matches() ? PT_REGS.get("r" + m.group(1)) : null;
    }
}
