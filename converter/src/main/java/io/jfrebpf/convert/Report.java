package io.jfrebpf.convert;

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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.flightrecorder.CouldNotLoadRecordingException;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;
import org.openjdk.jmc.flightrecorder.rules.IResult;
import org.openjdk.jmc.flightrecorder.rules.IRule;
import org.openjdk.jmc.flightrecorder.rules.ResultToolkit;
import org.openjdk.jmc.flightrecorder.rules.RuleRegistry;
import org.openjdk.jmc.flightrecorder.rules.Severity;
import org.openjdk.jmc.flightrecorder.rules.report.html.JfrHtmlRulesReport;
import org.openjdk.jmc.flightrecorder.rules.util.RulesToolkit;

/**
 * {@code report in.jfr out.html}: JMC's rules engine — the JDK rules and the jfr-ebpf plugin's —
 * over the recording, into JMC's HTML report (the page of JMC's automated analysis); the
 * findings worth a look are listed on the terminal too, the most severe first.
 */
final class Report {
    /** JMC's parser logs each field it does not know (e.g. JDK 21+'s Thread.virtual) through java.util.logging: kept to errors. */
    private static final Logger JMC_LOG = Logger.getLogger("org.openjdk.jmc");

    private Report() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws IOException {
        Commands.arity(args, 2, "report");
        Path in = Main.input(args.get(0));
        Path target = Path.of(args.get(1));
        JMC_LOG.setLevel(Level.SEVERE);
        long started = System.nanoTime();
        IItemCollection items;
        try {
            items = JfrLoaderToolkit.loadEvents(in.toFile());
        } catch (CouldNotLoadRecordingException | IOException e) {
            throw new IOException("not a readable recording: " + in + " (" + e.getMessage() + ")", e);
        }
        err.printf(Locale.ROOT, "convert: %s loaded by JMC's parser in %.1f s%n", in.getFileName(), seconds(started));

        Collection<IRule> rules = RuleRegistry.getRules();
        List<IResult> results = evaluate(rules, items, err);
        String html = JfrHtmlRulesReport.createReport(items);
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
                .thenComparing(r -> r.getRule().getId().startsWith("ebpf.") ? 0 : 1).thenComparing(r -> r.getRule().getName()));
        long ours = results.stream().filter(r -> r.getRule().getId().startsWith("ebpf.")).count();
        out.printf(Locale.ROOT, "%s: %d rules (%d of jfr-ebpf), %d findings%n", in.getFileName(), results.size(), ours, findings.size());
        if (!findings.isEmpty()) {
            Table t = new Table("severity", "rule", "finding");
            for (IResult r : findings) {
                t.row(r.getSeverity().getLocalizedName(), r.getRule().getName(), Table.shorten(plain(ResultToolkit.populateMessage(r, r.getSummary(), false)), 160));
            }
            t.print(out);
        }
        out.printf(Locale.ROOT, "report written to %s%n", target.toAbsolutePath());
        return Main.OK;
    }

    /** Every rule's result; a rule that fails or hangs is reported and left out, not the whole report. */
    static List<IResult> evaluate(Collection<IRule> rules, IItemCollection items, PrintStream err) {
        long started = System.nanoTime();
        Map<IRule, Future<IResult>> futures = RulesToolkit.evaluateParallel(rules, items, null, 0);
        List<IResult> results = new ArrayList<>();
        long lastNs = started;
        for (Map.Entry<IRule, Future<IResult>> e : futures.entrySet()) {
            while (true) {
                try {
                    IResult r = e.getValue().get(2, TimeUnit.SECONDS);
                    if (r != null) {
                        results.add(r);
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

    /** JMC's summaries may carry HTML markup and entities. */
    static String plain(String summary) {
        return summary == null ? "" : summary.replaceAll("<[^>]+>", "").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("''", "'");
    }

    private static double seconds(long startedNs) {
        return (System.nanoTime() - startedNs) / 1e9;
    }
}
