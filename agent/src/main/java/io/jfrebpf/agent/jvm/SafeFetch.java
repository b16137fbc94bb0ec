package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.ElfFiles;
import io.jfrebpf.agent.os.Native;
import io.jfrebpf.agent.os.ProcMaps;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * HotSpot's own safe load, {@code SafeFetchN}: a two-instruction function whose load, if it
 * faults, the JVM's signal handler turns into a return of the caller's error value. About 10 ns a
 * word through FFM, against a microsecond for a {@code process_vm_readv} syscall: what lets the
 * symbolizer read code cache and metadata for every sample. Used only after checking, in the
 * running libjvm, that the function is exactly the one the signal handler knows (its fault and
 * continuation labels and its instruction bytes); otherwise {@link SafeMemory} stays on syscalls.
 */
final class SafeFetch {
    /** mov (%rdi),%rax; ret; mov %rsi,%rax; ret — safefetch_linux_x86_64.S */
    private static final byte[] CODE = {0x48, (byte) 0x8b, 0x07, (byte) 0xc3, 0x48, (byte) 0x89, (byte) 0xf0, (byte) 0xc3};

    /** SafeFetchN_impl, called as a critical function ({@link Native#callCritical}). */
    private final MemorySegment fetch;

    private SafeFetch(MemorySegment fetch) {
        this.fetch = fetch;
    }

    static Optional<SafeFetch> find() {
        if (!"amd64".equals(System.getProperty("os.arch")) && !"x86_64".equals(System.getProperty("os.arch"))) {
            return Optional.empty();
        }
        try {
            ProcMaps maps = ProcMaps.selfAtStart();
            Optional<Path> libjvm = maps.libjvm();
            if (libjvm.isEmpty()) {
                return Optional.empty();
            }
            long impl;
            long fault;
            long continuation;
            // local symbols, in .symtab only: one pass over it, which ends where they are (locals come first)
            try (ElfFile elf = ElfFiles.open(libjvm.get())) {
                Map<String, ElfFile.Symbol> s = elf.symbols(List.of("SafeFetchN_impl", "_SafeFetchN_fault", "_SafeFetchN_continuation"));
                impl = address(maps, elf, libjvm.get(), s.get("SafeFetchN_impl"));
                fault = address(maps, elf, libjvm.get(), s.get("_SafeFetchN_fault"));
                continuation = address(maps, elf, libjvm.get(), s.get("_SafeFetchN_continuation"));
            }
            if (impl == 0 || fault != impl || continuation != impl + 4) {
                Log.debug("SafeFetchN not usable: impl 0x%x fault 0x%x continuation 0x%x", impl, fault, continuation);
                return Optional.empty();
            }
            byte[] code = new byte[CODE.length];
            if (!SafeMemory.readBySyscall(impl, code, 0, code.length) || !Arrays.equals(code, CODE)) {
                Log.debug("SafeFetchN not usable: unexpected code at 0x%x", impl);
                return Optional.empty();
            }
            // the first call makes the downcall: if it cannot be made, reads stay on syscalls rather than throw each time
            SafeFetch f = new SafeFetch(MemorySegment.ofAddress(impl));
            long codeWord = MemorySegment.ofArray(CODE).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            if (f.word(impl, ~codeWord) != codeWord) {
                Log.debug("SafeFetchN not usable: it does not read its own code at 0x%x", impl);
                return Optional.empty();
            }
            return Optional.of(f);
        } catch (Exception | LinkageError e) {
            Log.debug("SafeFetchN not usable: %s", e);
            return Optional.empty();
        }
    }

    private static long address(ProcMaps maps, ElfFile elf, Path libjvm, ElfFile.Symbol symbol) throws java.io.IOException {
        if (symbol == null) {
            return 0;
        }
        long fileOffset = elf.fileOffset(symbol.value());
        for (ProcMaps.Mapping m : maps.mappings()) {
            if (m.path().equals(libjvm.toString()) && fileOffset >= m.offset() && fileOffset < m.offset() + (m.end() - m.start())) {
                return m.start() + (fileOffset - m.offset());
            }
        }
        return 0;
    }

    /**
     * The word at an 8-byte aligned address, or {@code error} if it is not readable: SafeFetchN's
     * own contract, one call. A word that holds {@code error} looks the same as a fault; a caller
     * that must tell them apart asks again with another error value.
     */
    long word(long address, long error) {
        return Native.callCritical(fetch, address, error);
    }
}
