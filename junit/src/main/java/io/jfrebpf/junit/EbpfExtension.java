package io.jfrebpf.junit;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The extension behind {@link EbpfRecording}: makes sure the agent records in this JVM before the
 * class's tests, notes when each test begins, and hands it a {@link KernelEvents} that reads the
 * events of the test from that moment on.
 */
public final class EbpfExtension implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(EbpfExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        AgentControl.ensureRecording(options(context), directory());
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        AgentControl.ensureRecording(options(context), directory());
        context.getStore(NS).put("start", Instant.now());
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
        return parameter.getParameter().getType() == KernelEvents.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) throws ParameterResolutionException {
        Instant start = context.getStore(NS).get("start", Instant.class);
        if (start == null) {
            throw new ParameterResolutionException("KernelEvents is for test methods of an @EbpfRecording class or method");
        }
        return new KernelEvents(context.getDisplayName(), start, directory());
    }

    private static String options(ExtensionContext context) {
        Optional<EbpfRecording> onMethod = context.getTestMethod()
                .flatMap(m -> AnnotationSupport.findAnnotation(m, EbpfRecording.class));
        Optional<EbpfRecording> onClass = context.getTestClass()
                .flatMap(c -> AnnotationSupport.findAnnotation(c, EbpfRecording.class));
        return onMethod.or(() -> onClass).map(EbpfRecording::options).orElse(
                "probes=syscall+file+tcp+postgres,syscall.threshold=0,jfr=none");
    }

    /** Where attached recordings and dumps go: target/jfr-ebpf under the working directory (Maven's module). */
    static Path directory() {
        return Path.of(System.getProperty("jfrebpf.junit.dir", "target/jfr-ebpf")).toAbsolutePath();
    }
}
