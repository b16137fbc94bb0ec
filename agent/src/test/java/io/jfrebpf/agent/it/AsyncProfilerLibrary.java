package io.jfrebpf.agent.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;

/**
 * async-profiler's native library, for tests that run it beside the agent in the same JVM: taken
 * from the async-profiler jar on the test class path (a test dependency of this module, so every
 * build that runs the tests has it; nothing is downloaded and nothing is skipped).
 */
final class AsyncProfilerLibrary {
    private AsyncProfilerLibrary() {
    }

    /** Copies the library into {@code dir} and returns its path, for {@code -agentpath:}. */
    static Path extractTo(Path dir) throws IOException {
        Path lib = dir.resolve("libasyncProfiler.so");
        try (JarFile jar = new JarFile(jarOf(one.profiler.AsyncProfiler.class).toFile());
                InputStream in = jar.getInputStream(jar.getEntry("linux-x64/libasyncProfiler.so"))) {
            Files.copy(in, lib);
        }
        return lib;
    }

    private static Path jarOf(Class<?> c) throws IOException {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException("no jar for " + c, e);
        }
    }
}
