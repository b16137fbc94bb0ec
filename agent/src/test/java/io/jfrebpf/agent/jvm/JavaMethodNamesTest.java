package io.jfrebpf.agent.jvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What a Symbol read from JVM memory must look like to be taken as a class or method name. */
class JavaMethodNamesTest {
    @Test
    void namesAreUtf8WithoutControlCharacters() {
        assertEquals("java/lang/String", JavaMethods.name("java/lang/String".getBytes(StandardCharsets.UTF_8)));
        assertEquals("Grüße", JavaMethods.name("Grüße".getBytes(StandardCharsets.UTF_8)));
        assertNull(JavaMethods.name(new byte[] {'a', (byte) 0xc3}), "truncated UTF-8");
        assertNull(JavaMethods.name(new byte[] {'a', 0, 'b'}), "NUL");
        assertNull(JavaMethods.name(new byte[] {'a', 0x10, 'b'}), "control character");
        // what ClassUnloadingIT read once from a freed Symbol
        assertNull(JavaMethods.name(new byte[] {' ', ' ', (byte) 0xef, (byte) 0xbf, (byte) 0xbd, (byte) 0xc8, 0x20}));
    }

    @Test
    void classAndMethodNamesFollowTheJvms() {
        assertTrue(JavaMethods.validClassName("io/jfrebpf/agent/it/ChurnedSpinner+0x000000003d1b6c00"), "a hidden class");
        assertTrue(JavaMethods.validClassName("java/lang/invoke/LambdaForm$MH+0x0000000064137000"));
        assertFalse(JavaMethods.validClassName("[Ljava/lang/String;"));
        assertFalse(JavaMethods.validClassName("java.lang.String"));
        assertFalse(JavaMethods.validClassName("/a"));
        assertFalse(JavaMethods.validClassName(""));
        assertFalse(JavaMethods.validClassName(null));
        assertTrue(JavaMethods.validMethodName("lambda$main$0"));
        assertTrue(JavaMethods.validMethodName("<init>"));
        assertTrue(JavaMethods.validMethodName("<clinit>"));
        assertFalse(JavaMethods.validMethodName("<main>"));
        assertFalse(JavaMethods.validMethodName("a.b"));
        assertFalse(JavaMethods.validMethodName("a;b"));
        assertFalse(JavaMethods.validMethodName(""));
    }
}
