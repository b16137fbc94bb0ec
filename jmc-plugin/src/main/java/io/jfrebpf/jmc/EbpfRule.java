package io.jfrebpf.jmc;

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
 * What every rule of ours shares: an id under "ebpf.", the topic "ebpf", its thresholds as JMC
 * preferences (changeable in JMC's rule settings, and by the tests), and results with a score
 * (0 fine, 50 worth a look, 80 a problem), a summary, an explanation and what to do. A rule
 * whose events are not in the recording says which probe gives them.
 */
abstract class EbpfRule implements IRule {
    static final double INFO = 50;
    static final double WARNING = 80;

    private final String id;
    private final String name;
    private final List<TypedPreference<?>> preferences;

    EbpfRule(String id, String name, TypedPreference<?>... preferences) {
        this.id = id;
        this.name = name;
        this.preferences = List.of(preferences);
    }

    static TypedPreference<IQuantity> time(String id, String name, String description, long millis) {
        return new TypedPreference<>("ebpf." + id, name, description, UnitLookup.TIMESPAN, UnitLookup.MILLISECOND.quantity(millis));
    }

    static TypedPreference<IQuantity> count(String id, String name, String description, long n) {
        return new TypedPreference<>("ebpf." + id, name, description, UnitLookup.NUMBER, UnitLookup.NUMBER_UNITY.quantity(n));
    }

    static long nanos(IPreferenceValueProvider p, TypedPreference<IQuantity> pref) {
        return p.getPreferenceValue(pref).clampedLongValueIn(UnitLookup.NANOSECOND);
    }

    static long number(IPreferenceValueProvider p, TypedPreference<IQuantity> pref) {
        return p.getPreferenceValue(pref).longValue();
    }

    @Override
    public String getId() {
        return "ebpf." + id;
    }

    @Override
    public String getTopic() {
        return "ebpf";
    }

    @Override
    public String getName() {
        return name;
    }

    /** None required by JMC's availability check: our events carry no settings events; evaluate() looks itself. */
    @Override
    public Map<String, RulesToolkit.EventAvailability> getRequiredEvents() {
        return Map.of();
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
        return new FutureTask<>(() -> evaluate(items, p));
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
