package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Log;
import io.jfrebpf.agent.libbpf.BpfException;
import io.jfrebpf.agent.os.ElfFile;
import io.jfrebpf.agent.os.ElfFiles;
import io.jfrebpf.agent.os.Errno;
import io.jfrebpf.agent.os.KernelBtf;
import io.jfrebpf.agent.os.ProcMaps;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Functions of the libc this JVM maps, located for uprobes (which attach at file offsets). */
final class LibcFunctions {
    private LibcFunctions() {
    }

    /**
     * A uprobe attach that failed: when for lack of privilege, says so (measured: CAP_BPF and
     * CAP_PERFMON load the programs, the perf uprobe events also need CAP_SYS_ADMIN).
     */
    static BpfException explained(BpfException e, String probe, String alternative) {
        if (e.errno() == Errno.EPERM || e.errno() == Errno.EACCES) {
            return e.withHint("not permitted: the " + probe + " probe's uprobes need CAP_SYS_ADMIN besides CAP_BPF and"
                    + " CAP_PERFMON" + alternative);
        }
        return e;
    }

    /**
     * Whether this kernel has uprobe_multi links (Linux 6.6+): several functions under one link,
     * detached with one wait for the kernel's grace period (~100 ms here) instead of one per
     * function and direction — what a JVM's exit waits for.
     */
    static boolean uprobeMulti() {
        try {
            return KernelBtf.hasString("bpf_uprobe_multi_link");
        } catch (IOException e) {
            Log.debug("cannot read the kernel's BTF (%s): one perf uprobe per function", e.getMessage());
            return false;
        }
    }

    /** The libc mapped into this process. */
    static Path libc() throws IOException {
        Optional<Path> libc = ProcMaps.selfAtStart().libc();
        if (libc.isEmpty()) {
            throw new IOException("no libc.so.6 mapped in this process");
        }
        return libc.get();
    }

    /**
     * The file offset of each of {@code names} that the library exports, keyed by offset: aliases
     * of one function (accept and __libc_accept, open and open64) share an address and must get
     * one uprobe, or the program would run twice per call. The value is the first name seen.
     */
    static Map<Long, String> offsets(Path library, List<String> names) throws IOException {
        Map<Long, String> byOffset = new LinkedHashMap<>();
        try (ElfFile elf = ElfFiles.open(library)) {
            Map<String, ElfFile.Symbol> found = elf.symbols(names);
            for (String name : names) {
                ElfFile.Symbol s = found.get(name);
                if (s != null) {
                    byOffset.putIfAbsent(elf.fileOffset(s.value()), name);
                }
            }
        }
        return byOffset;
    }
}
