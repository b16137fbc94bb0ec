package io.jfrebpf.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Records the annotated test class or method under the jfr-ebpf agent; a test method then takes
 * a {@link KernelEvents} parameter to assert on what the kernel saw during it.
 *
 * <p>When the test JVM already runs the agent ({@code -javaagent:} in Surefire's argLine, the
 * setup that stores one recording per build), that recording is used and {@link #options} is
 * ignored. Otherwise the agent jar — system property {@code jfrebpf.agent.jar} or environment
 * variable {@code JFR_EBPF_AGENT_JAR} — is attached to the test JVM with {@link #options}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(EbpfExtension.class)
public @interface EbpfRecording {
    /**
     * Agent options when the extension attaches the agent. The default records every syscall
     * (syscall.threshold=0, so that counts are exact), file opens, TCP and PostgreSQL, without the
     * JVM's own JFR events (cheaper dumps). {@code file=} is chosen by the extension if absent.
     */
    String options() default "probes=syscall+file+tcp+postgres,syscall.threshold=0,jfr=none";
}
