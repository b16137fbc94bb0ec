package io.jfrebpf.events.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CallSitesTest {
    /** A statement a Spring controller has a repository send through HikariCP and pgjdbc, as the agent's stacks hold it. */
    static final String[] HIKARI = {
        "kernel kernel __sys_sendto",
        "native libc.so.6 __send",
        "java sun.nio.ch.SocketDispatcher.write0",
        "java sun.nio.ch.NioSocketImpl.write:413",
        "java java.net.Socket$SocketOutputStream.write:1120",
        "java org.postgresql.core.PGStream.flush:724",
        "java org.postgresql.core.v3.QueryExecutorImpl.execute:372",
        "java org.postgresql.jdbc.PgPreparedStatement.executeQuery:134",
        "java com.zaxxer.hikari.pool.ProxyPreparedStatement.executeQuery:52",
        "java com.zaxxer.hikari.pool.HikariProxyPreparedStatement.executeQuery",
        "java com.example.shop.data.OrderRepository.linesOf:31",
        "java com.example.shop.data.OrderRepository$$SpringCGLIB$$0.linesOf",
        "java com.example.shop.web.OrderController.report:20",
        "java org.springframework.web.servlet.FrameworkServlet.service:900",
        "java org.apache.catalina.core.ApplicationFilterChain.doFilter:140",
        "java org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run:1190",
        "java java.lang.Thread.run:1583",
        "native libjvm.so thread_native_entry",
        "native libc.so.6 start_thread",
        "native libc.so.6 clone3"};

    @Test
    void theCallSiteIsTheInnermostFrameOfTheApplicationNotOfThePoolTheDriverOrTheJdk() {
        assertEquals("com.example.shop.data.OrderRepository.linesOf:31", CallSites.DEFAULT.of(Frames.of(HIKARI)));
    }

    @Test
    void namedApplicationPackagesChooseAmongTheApplicationsFrames() {
        assertEquals("com.example.shop.web.OrderController.report:20", CallSites.forPackages("com.example.shop.web").of(Frames.of(HIKARI)));
        assertEquals("com.example.shop.data.OrderRepository.linesOf:31", CallSites.forPackages("com.example.shop.*").of(Frames.of(HIKARI)));
        assertEquals(List.of("com.example.a", "org.acme"), CallSites.forPackages(" com.example.a, org.acme.+com.example.a").applicationPackages());
        // a stack with no frame in the named packages: the default rule
        assertEquals("com.example.shop.data.OrderRepository.linesOf:31", CallSites.forPackages("org.acme").of(Frames.of(HIKARI)));
        // a package is matched whole: com.example.shopping is not com.example.shop
        assertFalse(CallSites.forPackages("com.example.shop").isNamedApplication("com.example.shopping.Cart"));
        assertTrue(CallSites.forPackages("com.example.shop").isNamedApplication("com.example.shop.Cart"));
        assertEquals(CallSites.DEFAULT, CallSites.forPackages("  "));
    }

    @Test
    void generatedClassesAreNeverTheCallSite() {
        List<String> stack = new ArrayList<>(Arrays.asList(HIKARI));
        stack.remove("java com.example.shop.data.OrderRepository.linesOf:31");
        stack.add(9, "java com.example.shop.web.OrderController$$Lambda/0x0000000801234.get");
        assertEquals("com.example.shop.web.OrderController.report:20", CallSites.DEFAULT.of(Frames.of(stack.toArray(String[]::new))));
    }

    @Test
    void aStackThatDoesNotReachItsThreadsStartIsIncompleteUnlessItWasCutAtTheDepthLimit() {
        String[] shortStack = Arrays.copyOf(HIKARI, 4); // a JVM without -XX:+PreserveFramePointer: the walk ends in compiled code
        assertEquals(CallSites.INCOMPLETE, CallSites.DEFAULT.of(Frames.of(shortStack)));
        assertFalse(CallSites.complete(Frames.of(shortStack)));
        String[] cut = Arrays.copyOf(HIKARI, 14);
        assertTrue(CallSites.complete(Frames.of(true, cut)));
        assertEquals("com.example.shop.data.OrderRepository.linesOf:31", CallSites.DEFAULT.of(Frames.of(true, cut)));
        assertEquals(CallSites.INCOMPLETE, CallSites.DEFAULT.of(Frames.of()));
        assertEquals(CallSites.NO_JAVA_FRAME, CallSites.DEFAULT.of(null));
    }

    @Test
    void aStackOfLibrariesOnlyIsNamedByItsInnermostJavaFrameAndOneWithoutJavaFramesSaysSo() {
        String[] tomcat = {"kernel kernel do_sys_openat2", "native libc.so.6 open64",
            "java sun.nio.fs.UnixNativeDispatcher.open0", "java org.apache.catalina.webresources.DirResourceSet.getResource:100",
            "java java.lang.Thread.run:1583", "native libjvm.so thread_native_entry", "native libc.so.6 clone3"};
        assertEquals("sun.nio.fs.UnixNativeDispatcher.open0", CallSites.DEFAULT.of(Frames.of(tomcat)));
        String[] gc = {"native libjvm.so G1ParTask::work", "native libjvm.so thread_native_entry", "native libc.so.6 start_thread"};
        assertEquals(CallSites.NO_JAVA_FRAME, CallSites.DEFAULT.of(Frames.of(gc)));
        assertEquals("sun.nio.fs.UnixNativeDispatcher.open0", CallSites.innermostJava(Frames.of(tomcat)));
    }

    @Test
    void theMostFrequentSiteOfATallyIsAmongCompleteStacksFirst() {
        assertEquals("a.B.c:1", CallSites.mostFrequent(java.util.Map.of(CallSites.INCOMPLETE, 90L, "a.B.c:1", 3L, "a.B.d:2", 2L)));
        assertEquals(CallSites.INCOMPLETE, CallSites.mostFrequent(java.util.Map.of(CallSites.INCOMPLETE, 90L)));
        assertEquals(null, CallSites.mostFrequent(java.util.Map.of()));
    }

    @Test
    void badPackageNamesAreRefusedNamingThePart() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CallSites.forPackages("com.example,com..bad"));
        assertTrue(e.getMessage().startsWith("'com..bad' is not a package name"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CallSites.forPackages("com/example"));
    }

    @Test
    void everyLibraryPrefixEndsWithADot() {
        for (String p : CallSites.LIBRARY_PACKAGES) {
            assertTrue(p.endsWith(".") && !p.startsWith("."), p);
        }
        assertTrue(CallSites.isLibrary("com.zaxxer.hikari.pool.HikariPool"));
        assertFalse(CallSites.isLibrary("com.example.Main"));
    }
}
