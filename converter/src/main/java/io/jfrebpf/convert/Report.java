package io.jfrebpf.convert;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.CouldNotLoadRecordingException;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;
import org.openjdk.jmc.flightrecorder.rules.IResult;
import org.openjdk.jmc.flightrecorder.rules.IRule;
import org.openjdk.jmc.flightrecorder.rules.ResultToolkit;
import org.openjdk.jmc.flightrecorder.rules.RuleRegistry;
import org.openjdk.jmc.flightrecorder.rules.Severity;
import org.openjdk.jmc.flightrecorder.rules.util.RulesToolkit;

/**
 * {@code report in.jfr out.html}: JMC's rules engine — the JDK rules and the jfr-ebpf plugin's —
 * over the recording, into JMC's HTML report (the page of JMC's automated analysis); the
 * findings worth a look are listed on the terminal too, the most severe first. The rules'
 * thresholds are JMC preferences: {@code --set id=value} changes one for this report
 * ({@link RulePreferences}), {@code --list-settings} lists them; {@code --fail-on warning} makes
 * the command a CI check (exit 1 when a rule warns), {@code --fail-rules ebpf.*} keeps that check
 * to some rules (ids, or prefixes ending in {@code *}): JMC's JDK rules judge the machine too (a
 * loaded CI runner makes "Inverted Parallelism" warn), and a build may choose to fail on the
 * kernel's findings only. The report shows every rule's findings either way.
 */
final class Report {
    /** JMC's parser logs each field it does not know (e.g. JDK 21+'s Thread.virtual) through java.util.logging: kept to errors. */
    private static final Logger JMC_LOG = Logger.getLogger("org.openjdk.jmc");

    private Report() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws IOException {
        JMC_LOG.setLevel(Level.SEVERE);
        Collection<IRule> rules = RuleRegistry.getRules();
        if (args.remove("--list-settings")) {
            listSettings(rules, out);
            return Main.OK;
        }
        CallSites sites = Commands.appPackages(args);
        if (!sites.applicationPackages().isEmpty()) {
            args.addAll(List.of("--set", CallSites.APP_PACKAGES_SETTING + "=" + String.join(",", sites.applicationPackages())));
        }
        RulePreferences settings = RulePreferences.take(args, rules);
        Severity failOn = failOn(args);
        List<String> failRules = failRules(args, rules, failOn);
        Commands.arity(args, 2, "report");
        Path in = Main.input(args.get(0));
        Path target = Path.of(args.get(1));
        long started = System.nanoTime();
        IItemCollection items;
        try {
            items = JfrLoaderToolkit.loadEvents(in.toFile());
        } catch (CouldNotLoadRecordingException | IOException e) {
            throw new IOException("not a readable recording: " + in + " (" + e.getMessage() + ")", e);
        }
        err.printf(Locale.ROOT, "convert: %s loaded by JMC's parser in %.1f s%n", in.getFileName(), seconds(started));

        List<IResult> results = evaluate(rules, items, settings, err);
        String html = ReportPage.html(results);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, html);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }

        List<IResult> findings = new ArrayList<>(results.stream()
                .filter(r -> r.getSeverity() == Severity.WARNING || r.getSeverity() == Severity.INFO).toList());
        findings.sort(Comparator.comparing((IResult r) -> r.getSeverity() == Severity.WARNING ? 0 : 1)
                .thenComparing(r -> r.getRule().getId().startsWith(EventNames.PREFIX) ? 0 : 1).thenComparing(r -> r.getRule().getName()));
        long ours = results.stream().filter(r -> r.getRule().getId().startsWith(EventNames.PREFIX)).count();
        out.printf(Locale.ROOT, "%s: %d rules (%d of jfr-ebpf), %d findings%n", in.getFileName(), results.size(), ours, findings.size());
        if (!findings.isEmpty()) {
            Table t = new Table("severity", "rule", "finding");
            for (IResult r : findings) {
                t.row(r.getSeverity().getLocalizedName(), r.getRule().getName(), Table.shorten(plain(ResultToolkit.populateMessage(r, r.getSummary(), false)), 160));
            }
            t.print(out);
        }
        if (!settings.overrides().isEmpty()) {
            out.printf(Locale.ROOT, "settings: %s%n", settings.overrides());
        }
        out.printf(Locale.ROOT, "report written to %s%n", target.toAbsolutePath());
        if (failOn != null) {
            long failing = findings.stream().filter(r -> matches(r.getRule().getId(), failRules))
                    .filter(r -> r.getSeverity() == Severity.WARNING || (failOn == Severity.INFO && r.getSeverity() == Severity.INFO))
                    .count();
            String among = failRules.isEmpty() ? "" : " among the rules " + String.join(",", failRules);
            if (failing > 0) {
                out.printf(Locale.ROOT, "report: %d finding(s) at %s or above%s (--fail-on): exit %d%n", failing,
                        failOn.getLocalizedName().toLowerCase(Locale.ROOT), among, Main.REGRESSION);
                return Main.REGRESSION;
            }
            if (!failRules.isEmpty()) {
                out.printf(Locale.ROOT, "report: no finding at %s or above%s (--fail-on)%n",
                        failOn.getLocalizedName().toLowerCase(Locale.ROOT), among);
            }
        }
        return Main.OK;
    }

    /** Takes "--fail-on warning|info" out of args; null when absent. */
    static Severity failOn(List<String> args) {
        String level = Commands.takeOption(args, "--fail-on", "warning or info");
        if (level == null) {
            return null;
        }
        return switch (level.toLowerCase(Locale.ROOT)) {
            case "warning" -> Severity.WARNING;
            case "info" -> Severity.INFO;
            default -> throw new IllegalArgumentException("--fail-on takes warning or info, not '" + level + "'");
        };
    }

    /**
     * Takes "--fail-rules ID,PREFIX*,..." out of args: the rules whose findings --fail-on counts
     * (empty: every rule's). Each must name a rule, or be a prefix of some ending in {@code *}.
     */
    static List<String> failRules(List<String> args, Collection<IRule> rules, Severity failOn) {
        String ours = EventNames.PREFIX + "*";
        String given = Commands.takeOption(args, "--fail-rules", "rule ids or prefixes, e.g. --fail-rules " + ours);
        if (given == null) {
            return List.of();
        }
        if (failOn == null) {
            throw new IllegalArgumentException("--fail-rules chooses the rules --fail-on counts: give --fail-on warning|info too");
        }
        List<String> patterns = new ArrayList<>();
        for (String p : given.split(",")) {
            String pattern = p.trim();
            if (pattern.isEmpty() || rules.stream().noneMatch(r -> matches(r.getId(), List.of(pattern)))) {
                throw new IllegalArgumentException("--fail-rules: '" + pattern + "' names no rule; a prefix ends in * (" + ours
                        + " for jfr-ebpf's rules), an id is one of " + rules.stream().map(IRule::getId).sorted(
                                Comparator.comparing((String id) -> id.startsWith(EventNames.PREFIX) ? 0 : 1).thenComparing(id -> id))
                                .collect(java.util.stream.Collectors.joining(", ")));
            }
            patterns.add(pattern);
        }
        return List.copyOf(patterns);
    }

    /** Whether a rule id is one of these (an id, or a prefix ending in *); every id for none. */
    static boolean matches(String ruleId, List<String> patterns) {
        if (patterns.isEmpty()) {
            return true;
        }
        for (String p : patterns) {
            if (p.endsWith("*") ? ruleId.startsWith(p.substring(0, p.length() - 1)) : ruleId.equals(p)) {
                return true;
            }
        }
        return false;
    }

    /** Every setting of every rule: id, default, what it is, and its rules. */
    static void listSettings(Collection<IRule> rules, PrintStream out) {
        Map<String, List<String>> ruleNames = new java.util.TreeMap<>();
        for (IRule r : rules) {
            for (TypedPreference<?> p : r.getConfigurationAttributes()) {
                ruleNames.computeIfAbsent(p.getIdentifier(), k -> new ArrayList<>()).add(r.getName());
            }
        }
        Table t = new Table("setting", "default", "rule", "what");
        Map<String, TypedPreference<?>> known = RulePreferences.known(rules);
        // ours first, then JMC's
        List<String> ids = new ArrayList<>(known.keySet());
        ids.sort(Comparator.comparing((String id) -> id.startsWith(EventNames.PREFIX) ? 0 : 1).thenComparing(id -> id));
        for (String id : ids) {
            TypedPreference<?> p = known.get(id);
            t.row(id, Table.shorten(RulePreferences.defaultText(p), 24), Table.shorten(String.join(", ", ruleNames.get(id)), 40),
                    Table.shorten(p.getName(), 60));
        }
        t.print(out);
        out.println("set one with: report --set <setting>=<value> in.jfr out.html (a number, or a quantity with its unit: --set "
                + EventNames.PREFIX + "syscall.slow=\"5 ms\")");
    }

    /** Every rule's result; a rule that fails or hangs is reported and left out, not the whole report. */
    static List<IResult> evaluate(Collection<IRule> rules, IItemCollection items, IPreferenceValueProvider settings,
            PrintStream err) {
        long started = System.nanoTime();
        Map<IRule, Future<IResult>> futures = RulesToolkit.evaluateParallel(rules, items, settings, 0);
        List<IResult> results = new ArrayList<>();
        long lastNs = started;
        for (Map.Entry<IRule, Future<IResult>> e : futures.entrySet()) {
            while (true) {
                try {
                    IResult r = e.getValue().get(2, TimeUnit.SECONDS);
                    if (r != null) {
                        results.add(whyNotApplicable(e.getKey(), r, items, settings));
                    }
                    break;
                } catch (TimeoutException t) {
                    long now = System.nanoTime();
                    if (now - lastNs >= Progress.EVERY_NS) {
                        lastNs = now;
                        long done = futures.values().stream().filter(Future::isDone).count();
                        err.printf(Locale.ROOT, "convert: %d of %d rules evaluated (%d s)%n", done, futures.size(),
                                (now - started) / 1_000_000_000L);
                    }
                } catch (ExecutionException x) {
                    err.printf("convert: rule %s failed: %s%n", e.getKey().getId(), x.getCause());
                    break;
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", x);
                }
            }
        }
        return results;
    }

    /**
     * JMC's engine does not evaluate a rule whose required events the recording lacks, and says
     * "Ignored"; ours then say themselves which probe records their events (they stop at once).
     */
    static IResult whyNotApplicable(IRule rule, IResult result, IItemCollection items, IPreferenceValueProvider settings)
            throws InterruptedException, ExecutionException {
        if (result.getSeverity() != Severity.NA || !rule.getId().startsWith(EventNames.PREFIX)
                || RulesToolkit.matchesEventAvailabilityMap(items, rule.getRequiredEvents())) {
            return result;
        }
        RunnableFuture<IResult> own = rule.createEvaluation(items, settings, null);
        own.run();
        return own.get();
    }

    /** JMC's summaries may carry HTML markup and entities. */
    static String plain(String summary) {
        return summary == null ? "" : summary.replaceAll("<[^>]+>", "").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("''", "'");
    }

    private static double seconds(long startedNs) {
        return (System.nanoTime() - startedNs) / 1e9;
    }
}
