package io.jfrebpf.agent.jvm;

import io.jfrebpf.agent.Log;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The JIT compiles the agent's own code with C1 only: a HotSpot compiler directive that excludes
 * {@code io/jfrebpf/*} from C2, added by the JVM's {@code Compiler.directives_add} diagnostic
 * command (what {@code jcmd <pid> Compiler.directives_add} runs), called in-process. Most of an
 * idle JVM's extra CPU under the agent was C2 compiling the agent's start-up and event code
 * (parsers, decoders, the chunk writer: single compiles of 40-100 ms each, recompiled after
 * deoptimizations); C1 compiles the same methods in a tenth of that, and its code runs them a
 * little slower on the agent's own threads. The application's code and the JDK's are compiled
 * as before. Without the command (a runtime without jdk.management, a JVM without C1 or tiered
 * compilation, where C2-only would leave the agent interpreted) nothing changes and a line at
 * debug level says why. {@code jit=tiered} leaves the agent's code to tiered compilation.
 */
public final class AgentCompilation {
    /** The directive: every class of the agent and of what it shades in, C2 excluded (C1 then compiles at tier 1). */
    static final String DIRECTIVE = "[{ match: [\"io/jfrebpf/*.*\"], c2: { Exclude: true } }]";
    private static final String DCMD_CLASS = "com.sun.management.internal.DiagnosticCommandImpl";
    /** Flags with which C2 is the only compiler: excluding it would leave the agent's code interpreted. */
    private static final String[] C2_ONLY = {"-XX:-TieredCompilation", "CompilationMode=high-only", "-XX:-UseCompiler"};

    private AgentCompilation() {
    }

    /** Adds the directive; never throws. Returns whether it was added. */
    public static boolean c1Only(Instrumentation inst) {
        try {
            Optional<Module> management = ModuleLayer.boot().findModule("jdk.management");
            if (management.isEmpty()) {
                Log.debug("jit: no jdk.management in this runtime; the agent's code is compiled as the application's");
                return false;
            }
            Module m = management.get();
            String pkg = DCMD_CLASS.substring(0, DCMD_CLASS.lastIndexOf('.'));
            if (inst != null && !m.isOpen(pkg, AgentCompilation.class.getModule())) {
                inst.redefineModule(m, Set.of(), Map.of(), Map.of(pkg, Set.of(AgentCompilation.class.getModule())), Set.of(), Map.of());
            }
            ClassLoader loader = m.getClassLoader();
            // its native methods live in libmanagement_ext, which this class loads
            Class.forName("com.sun.management.internal.PlatformMBeanProviderImpl", true, loader);
            Class<?> dcmd = Class.forName(DCMD_CLASS, true, loader);
            Method instance = dcmd.getDeclaredMethod("getDiagnosticCommandMBean");
            instance.setAccessible(true);
            Object commands = instance.invoke(null);
            if (commands == null) {
                Log.debug("jit: this JVM runs no diagnostic commands; the agent's code is compiled as the application's");
                return false;
            }
            Method execute = dcmd.getDeclaredMethod("executeDiagnosticCommand", String.class);
            execute.setAccessible(true);
            String flags = String.valueOf(execute.invoke(commands, "VM.flags"));
            for (String c2Only : C2_ONLY) {
                if (flags.contains(c2Only)) {
                    Log.debug("jit: %s: C2 is this JVM's only compiler, the agent's code is compiled by it", c2Only);
                    return false;
                }
            }
            return add(execute, commands);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            Log.debug("jit: cannot add the compiler directive (%s); the agent's code is compiled as the application's", e);
            return false;
        }
    }

    /** The command reads a file: one of the owner's only, in the temporary directory, gone once read. */
    private static boolean add(Method execute, Object commands) throws ReflectiveOperationException {
        Path file = Path.of(System.getProperty("java.io.tmpdir"),
                "jfr-ebpf-jit-" + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime()) + ".json");
        try {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file);
            }
            Files.writeString(file, DIRECTIVE, StandardOpenOption.WRITE);
            String said = String.valueOf(execute.invoke(commands, "Compiler.directives_add " + file)).strip();
            if (!said.startsWith("1 compiler directive")) {
                Log.debug("jit: Compiler.directives_add said '%s'; the agent's code is compiled as the application's", said);
                return false;
            }
            Log.debug("jit: the agent's code is compiled by C1 only (%s)", said);
            return true;
        } catch (java.io.IOException e) {
            Log.debug("jit: cannot write the compiler directive to %s (%s)", file, e.getMessage());
            return false;
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (java.io.IOException e) {
                Log.debug("jit: cannot delete %s (%s)", file, e.getMessage());
            }
        }
    }
}
