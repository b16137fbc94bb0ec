package io.jfrebpf.jmc;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RunnableFuture;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.unit.UnitLookup;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;
import org.openjdk.jmc.flightrecorder.rules.IResultValueProvider;
import org.openjdk.jmc.flightrecorder.rules.IRule;
import org.openjdk.jmc.flightrecorder.rules.ResultBuilder;
import org.openjdk.jmc.flightrecorder.rules.Severity;
import org.openjdk.jmc.flightrecorder.rules.TypedResult;
import org.openjdk.jmc.flightrecorder.rules.util.RulesToolkit;

/**
 * What every rule of ours shares: an id in the catalog's namespace ({@link EventNames#PREFIX}),
 * the topic "ebpf", the event types it needs
 * (JMC's engine judges from them whether the rule applies to a recording, as for its own rules),
 * its thresholds as JMC preferences (changeable in JMC's rule settings, and by the tests), and
 * results with a score (0 fine, 50 worth a look, 80 a problem), a summary, an explanation and what
 * to do. Evaluated directly on a recording without its events, a rule says which probe gives them.
 */
abstract class EbpfRule implements IRule {
    static final double INFO = 50;
    static final double WARNING = 80;

    /** Why a rule on TCP connections does not apply to a recording without them (two rules read them). */
    static final String NO_TCP_CONNECTIONS = "No " + EventNames.TCP_CONNECTION
            + " events: the JVM had no connection, or probes=tcp was off.";
    /** Why a rule on PostgreSQL statements does not apply to a recording without them (two rules read them). */
    static final String NO_POSTGRES_QUERIES = "No " + EventNames.POSTGRES_QUERY
            + " events: no PostgreSQL server on the same host served this JVM.";

    /**
     * The application's packages, for the rules that name the code behind events (the reader
     * library's call sites): empty, every class outside the well-known libraries (JDK, pools,
     * drivers, frameworks) is the application's; else the innermost frame in one of these.
     */
    static final TypedPreference<String> APP_PACKAGES = new TypedPreference<>(CallSites.APP_PACKAGES_SETTING, "Application packages",
            "The packages of the application's own code, separated by commas (e.g. com.example.shop): the code an event names is"
                    + " the innermost frame in one of them. Empty: every class outside well-known libraries (JDK, connection"
                    + " pools, JDBC drivers, Spring, Tomcat, Netty, Jackson, Hibernate...)",
            UnitLookup.PLAIN_TEXT.getPersister(), "");

    private final String id;
    private final String name;
    private final Map<String, RulesToolkit.EventAvailability> required;
    private final List<TypedPreference<?>> preferences;

    /** A rule that needs events of these types in the recording to apply. */
    EbpfRule(String id, String name, List<String> requiredTypes, TypedPreference<?>... preferences) {
        this.id = id;
        this.name = name;
        RulesToolkit.RequiredEventsBuilder b = RulesToolkit.RequiredEventsBuilder.create();
        for (String type : requiredTypes) {
            // AVAILABLE, as the JDK's rules ask of events without settings of their own: ours have none
            // (no jdk.ActiveSetting), so "enabled but none recorded" cannot be told from "not recorded"
            b.addEventType(type, RulesToolkit.EventAvailability.AVAILABLE);
        }
        this.required = b.build();
        this.preferences = List.of(preferences);
    }

    static TypedPreference<IQuantity> time(String id, String name, String description, long millis) {
        return new TypedPreference<>(EventNames.PREFIX + id, name, description, UnitLookup.TIMESPAN, UnitLookup.MILLISECOND.quantity(millis));
    }

    static TypedPreference<IQuantity> count(String id, String name, String description, long n) {
        return new TypedPreference<>(EventNames.PREFIX + id, name, description, UnitLookup.NUMBER, UnitLookup.NUMBER_UNITY.quantity(n));
    }

    static long nanos(IPreferenceValueProvider p, TypedPreference<IQuantity> pref) {
        return p.getPreferenceValue(pref).clampedLongValueIn(UnitLookup.NANOSECOND);
    }

    static long number(IPreferenceValueProvider p, TypedPreference<IQuantity> pref) {
        return p.getPreferenceValue(pref).longValue();
    }

    @Override
    public String getId() {
        return EventNames.PREFIX + id;
    }

    @Override
    public String getTopic() {
        return "ebpf";
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public Map<String, RulesToolkit.EventAvailability> getRequiredEvents() {
        return required;
    }

    @Override
    public Collection<TypedPreference<?>> getConfigurationAttributes() {
        return preferences;
    }

    @Override
    public Collection<TypedResult<?>> getResults() {
        return List.of();
    }

    @Override
    public RunnableFuture<IResult> createEvaluation(IItemCollection items, IPreferenceValueProvider valueProvider,
            IResultValueProvider resultProvider) {
        IPreferenceValueProvider p = valueProvider != null ? valueProvider : IPreferenceValueProvider.DEFAULT_VALUES;
        return new FutureTask<>(() -> {
            if (preferences.contains(APP_PACKAGES)) {
                try {
                    CallSites.forPackages(p.getPreferenceValue(APP_PACKAGES));
                } catch (IllegalArgumentException e) {
                    return notApplicable(p, "The setting " + APP_PACKAGES.getIdentifier() + " is not a list of packages: "
                            + e.getMessage() + ".");
                }
            }
            return evaluate(items, p);
        });
    }

    /** The call sites these settings ask for (the application's packages, or the well-known libraries skipped). */
    static CallSites callSites(IPreferenceValueProvider p) {
        return CallSites.forPackages(p.getPreferenceValue(APP_PACKAGES));
    }

    abstract IResult evaluate(IItemCollection items, IPreferenceValueProvider p);

    IResult result(IPreferenceValueProvider p, double score, String summary, String explanation, String solution) {
        ResultBuilder b = ResultBuilder.createFor(this, p).setSeverity(Severity.get(score)).setSummary(summary)
                .setExplanation(explanation);
        if (solution != null) {
            b.setSolution(solution);
        }
        return b.build();
    }

    IResult ok(IPreferenceValueProvider p, String summary) {
        return result(p, 0, summary, summary, null);
    }

    IResult notApplicable(IPreferenceValueProvider p, String why) {
        return RulesToolkit.getNotApplicableResult(this, p, why);
    }

    static String ms(long nanos) {
        return nanos >= 10_000_000 ? (nanos / 1_000_000) + " ms" : String.format("%.2f ms", nanos / 1e6);
    }
}
