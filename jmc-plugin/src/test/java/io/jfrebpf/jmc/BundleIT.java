package io.jfrebpf.jmc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.felix.framework.FrameworkFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;

/**
 * The built bundle in a real OSGi framework (Apache Felix) with the JMC 9.1.2 bundles JMC's
 * desktop runs and their own requirements (OWASP encoder, lz4-java): it resolves and starts,
 * it is wired to JMC's bundles, and every rule its services file and plugin.xml name loads
 * through that wiring as an IRule of JMC's rules bundle.
 */
class BundleIT {
    static final Path BUNDLE = Path.of(System.getProperty("jfrebpf.jmc.bundle", "target/jfr-ebpf-jmc-plugin.jar"));

    /** The jars of JMC's bundles and their requirements, from the test's class path. */
    static List<Path> jmcBundles() throws Exception {
        List<Path> jars = new ArrayList<>();
        for (String cls : List.of("net.jpountz.lz4.LZ4Factory", "org.owasp.encoder.Encode", "org.openjdk.jmc.common.IMCFrame",
                "org.openjdk.jmc.flightrecorder.JfrLoaderToolkit", "org.openjdk.jmc.flightrecorder.rules.IRule",
                "org.openjdk.jmc.flightrecorder.rules.jdk.general.ClassLoadingRule")) {
            jars.add(Path.of(Class.forName(cls).getProtectionDomain().getCodeSource().getLocation().toURI()));
        }
        return jars;
    }

    @Test
    void theBundleResolvesBesideJmcsBundlesAndItsRulesLoadThroughItsWiring(@TempDir Path cache) throws Exception {
        assertTrue(Files.isRegularFile(BUNDLE), "bundle not built: " + BUNDLE);
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, cache.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        // lz4-java imports sun.misc, which Equinox in JMC exports from the JDK too
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "sun.misc");
        Framework framework = new FrameworkFactory().newFramework(config);
        framework.start();
        try {
            BundleContext context = framework.getBundleContext();
            Map<String, Bundle> installed = new HashMap<>();
            for (Path jar : jmcBundles()) {
                Bundle b = context.installBundle(jar.toUri().toString());
                installed.put(b.getSymbolicName(), b);
            }
            Bundle ours = context.installBundle(BUNDLE.toUri().toString());
            assertEquals("io.jfrebpf.jmc", ours.getSymbolicName());
            ours.start(); // throws, naming the missing requirement, when it does not resolve
            assertEquals(Bundle.ACTIVE, ours.getState());

            BundleWiring wiring = ours.adapt(BundleWiring.class);
            Set<String> wiredTo = wiring.getRequiredWires(null).stream().map(BundleWire::getProvider)
                    .map(p -> p.getBundle().getSymbolicName()).collect(Collectors.toSet());
            assertTrue(wiredTo.containsAll(Set.of("org.openjdk.jmc.common", "org.openjdk.jmc.flightrecorder",
                    "org.openjdk.jmc.flightrecorder.rules")), "wired to " + wiredTo);

            Bundle rulesBundle = installed.get("org.openjdk.jmc.flightrecorder.rules");
            assertNotNull(rulesBundle, "installed: " + installed.keySet());
            Class<?> iRule = rulesBundle.loadClass("org.openjdk.jmc.flightrecorder.rules.IRule");
            List<String> services = read(ours, "META-INF/services/org.openjdk.jmc.flightrecorder.rules.IRule").lines()
                    .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
            assertEquals(11, services.size(), services.toString());
            Matcher m = Pattern.compile("<rule class=\"([^\"]+)\"").matcher(read(ours, "plugin.xml"));
            List<String> extensions = new ArrayList<>();
            while (m.find()) {
                extensions.add(m.group(1));
            }
            assertTrue(read(ours, "plugin.xml").contains("point=\"org.openjdk.jmc.flightrecorder.rules.ruleProvider\""));
            assertEquals(services, extensions, "plugin.xml and the services file");
            for (String name : services) {
                Class<?> rule = ours.loadClass(name);
                assertSame(ours, org.osgi.framework.FrameworkUtil.getBundle(rule), name + " comes from our bundle");
                assertTrue(iRule.isAssignableFrom(rule), name + " is an IRule of JMC's rules bundle");
                Object instance = rule.getConstructor().newInstance();
                String id = (String) iRule.getMethod("getId").invoke(instance);
                assertTrue(id.startsWith("ebpf."), name + ": " + id);
                Map<?, ?> required = (Map<?, ?>) iRule.getMethod("getRequiredEvents").invoke(instance);
                assertFalse(required.isEmpty(), name + " requires events");
            }
            // the reader library is inside the bundle, a private package of it, loaded through it and working
            Class<?> callSites = ours.loadClass("io.jfrebpf.events.read.CallSites");
            assertSame(ours, org.osgi.framework.FrameworkUtil.getBundle(callSites), "CallSites comes from our bundle");
            Object sites = callSites.getMethod("forPackages", String.class).invoke(null, "com.example.shop");
            assertEquals(List.of("com.example.shop"), callSites.getMethod("applicationPackages").invoke(sites));
            // a rule evaluated inside the framework, on an empty recording: it checks its settings with the library
            Object empty = installed.get("org.openjdk.jmc.common").loadClass("org.openjdk.jmc.common.item.ItemCollectionToolkit")
                    .getField("EMPTY").get(null);
            Class<?> itemCollection = installed.get("org.openjdk.jmc.common").loadClass("org.openjdk.jmc.common.item.IItemCollection");
            Class<?> preferences = installed.get("org.openjdk.jmc.common").loadClass("org.openjdk.jmc.common.util.IPreferenceValueProvider");
            Class<?> results = rulesBundle.loadClass("org.openjdk.jmc.flightrecorder.rules.IResultValueProvider");
            Object rule = ours.loadClass("io.jfrebpf.jmc.NPlusOneRule").getConstructor().newInstance();
            java.util.concurrent.RunnableFuture<?> evaluation = (java.util.concurrent.RunnableFuture<?>) iRule
                    .getMethod("createEvaluation", itemCollection, preferences, results)
                    .invoke(rule, empty, preferences.getField("DEFAULT_VALUES").get(null), null);
            evaluation.run();
            Object result = evaluation.get();
            String summary = (String) rulesBundle.loadClass("org.openjdk.jmc.flightrecorder.rules.IResult").getMethod("getSummary").invoke(result);
            assertTrue(summary.contains("ebpf.PostgresQuery"), summary);
            ours.stop();
            ours.uninstall();
        } finally {
            framework.stop();
            framework.waitForStop(10_000);
        }
    }

    private static String read(Bundle bundle, String entry) throws Exception {
        URL url = bundle.getEntry(entry);
        assertNotNull(url, entry + " in the bundle");
        try (InputStream in = url.openStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
