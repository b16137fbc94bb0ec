package io.jfrebpf.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jfrebpf.agent.libbpf.BpfObject;
import io.jfrebpf.bpf.OffcpuObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The objects load on kernels whose task_struct differs from this one's (bpf/core_fixes.bpf.h):
 * libbpf relocates them against another kernel's BTF, here this kernel's with task_struct's
 * {@code __state} named {@code state} as before Linux 5.14 (Debian 11, Amazon Linux 2, RHEL 8)
 * and without {@code rseq} (a kernel built without CONFIG_RSEQ, or one that keeps the registration
 * elsewhere), then the kernel verifies them, offcpu with its walk on return to user mode, the
 * code that asks for the field. Reading either field directly, the relocation fails.
 */
class CoreFixesIT {
    @BeforeAll
    static void bpf() {
        BpfRequirement.require();
    }

    /** This kernel's BTF as a C header, task_struct's state field renamed as older kernels name it, compiled to BTF. */
    static Path olderKernelBtf(Path dir) throws Exception {
        Path header = dir.resolve("vmlinux.h");
        run(dir, List.of("sh", "-c", "bpftool btf dump file /sys/kernel/btf/vmlinux format c > " + header));
        String text = Files.readString(header);
        int start = text.indexOf("struct task_struct {");
        int end = text.indexOf("\n};", start);
        assertTrue(start >= 0 && end > start, "no task_struct in this kernel's BTF");
        String task = text.substring(start, end);
        assertEquals(1, task.split("unsigned int __state;", -1).length - 1, "this kernel's task_struct has __state");
        assertEquals(1, task.split("struct rseq \\*rseq;", -1).length - 1, "this kernel's task_struct has rseq");
        Files.writeString(header, text.substring(0, start)
                + task.replace("unsigned int __state;", "unsigned int state;").replace("struct rseq *rseq;", "void *rseq_elsewhere;")
                + text.substring(end));
        // globals of the types the programs relocate against, so that clang puts them whole into the BTF
        Path source = Files.writeString(dir.resolve("older.c"), "#include \"vmlinux.h\"\nstruct task_struct anchor_task;\n"
                + "struct pt_regs anchor_regs;\nstruct pid anchor_pid;\nstruct uprobe_task anchor_utask;\n");
        Path object = dir.resolve("older.o");
        run(dir, List.of("clang", "-g", "-O2", "-target", "bpf", "-c", source.toString(), "-o", object.toString()));
        return object;
    }

    @ParameterizedTest
    @ValueSource(strings = {"offcpu", "sched"})
    void loadsWhereTheTaskStateIsCalledState(String probe, @TempDir Path dir) throws Exception {
        Path btf = olderKernelBtf(dir);
        try (BpfObject older = BpfObject.open(probe, BpfObject.resourceBytes(probe), btf)) {
            if (probe.equals("offcpu")) {
                older.rodata().setInt(OffcpuObject.Rodata.WALK_ON_RESUME, 1);
            }
            older.load(); // throws when a CO-RE relocation finds no field
        }
        try (BpfObject current = BpfObject.openResource(probe)) {
            current.load();
        }
    }

    private static void run(Path dir, List<String> command) throws Exception {
        Path log = Files.createTempFile(dir, "cmd", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), command + " hung");
        assertEquals(0, p.exitValue(), command + ":\n" + Files.readString(log));
    }
}
