package io.jfrebpf.convert;

import io.jfrebpf.events.read.EventNames;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.openjdk.jmc.common.unit.IPersister;
import org.openjdk.jmc.common.unit.QuantityConversionException;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IRule;

/**
 * The thresholds of JMC's rules for {@code report}, the way JMC's preferences set them:
 * {@code --set ebpf.file.storm=50} or {@code --set ebpf.syscall.slow="5 ms"}, by preference id
 * (the rules table in docs/jmc.md, or {@code report --list-settings}). A value is read as JMC reads
 * what one types into its preference page (a number, or a quantity with its unit); an unknown
 * id or a value that does not parse is a usage error naming what is expected.
 */
final class RulePreferences implements IPreferenceValueProvider {
    private final Map<String, Object> values;
    private final Map<String, String> texts;

    private RulePreferences(Map<String, Object> values, Map<String, String> texts) {
        this.values = values;
        this.texts = texts;
    }

    /** A setting as the usage errors show one: the file-open storm rule's threshold. */
    static final String EXAMPLE = EventNames.PREFIX + "file.storm=50";

    /** Takes every "--set id=value" out of args and checks them against the rules' preferences. */
    static RulePreferences take(List<String> args, Collection<IRule> rules) {
        Map<String, TypedPreference<?>> known = known(rules);
        Map<String, Object> values = new HashMap<>();
        Map<String, String> texts = new TreeMap<>();
        for (String setting; (setting = Commands.takeOption(args, "--set", "id=value, e.g. --set " + EXAMPLE)) != null;) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set " + setting + ": expected id=value, e.g. --set " + EXAMPLE);
            }
            String id = setting.substring(0, eq).trim();
            TypedPreference<?> p = known.get(id);
            if (p == null) {
                throw new IllegalArgumentException("--set " + setting + ": no rule has a setting '" + id + "'; "
                        + "report --list-settings lists them (ours: " + known.keySet().stream()
                                .filter(k -> k.startsWith(EventNames.PREFIX)).collect(Collectors.joining(", ")) + ")");
            }
            String text = setting.substring(eq + 1).trim();
            values.put(id, parse(p, text));
            texts.put(id, text);
        }
        return new RulePreferences(values, texts);
    }

    private static <T> T parse(TypedPreference<T> p, String text) {
        IPersister<T> persister = p.getPersister();
        try {
            T v = persister.parseInteractive(text);
            persister.validate(v);
            return v;
        } catch (QuantityConversionException | RuntimeException interactive) {
            try {
                T v = persister.parsePersisted(text);
                persister.validate(v);
                return v;
            } catch (QuantityConversionException | RuntimeException e) {
                throw new IllegalArgumentException("--set " + p.getIdentifier() + "=" + text + ": not a value of '" + p.getName()
                        + "' (" + describe(interactive) + "); its default is " + defaultText(p));
            }
        }
    }

    private static String describe(Exception e) {
        return e instanceof QuantityConversionException q ? q.getLocalizedMessage() : String.valueOf(e.getMessage());
    }

    static <T> String defaultText(TypedPreference<T> p) {
        try {
            return p.getPersister().interactiveFormat(p.getDefaultValue());
        } catch (RuntimeException e) {
            return String.valueOf(p.getDefaultValue());
        }
    }

    /** Every setting of these rules by id (rules sharing a setting share its id). */
    static Map<String, TypedPreference<?>> known(Collection<IRule> rules) {
        Map<String, TypedPreference<?>> known = new TreeMap<>();
        for (IRule r : rules) {
            for (TypedPreference<?> p : r.getConfigurationAttributes()) {
                known.putIfAbsent(p.getIdentifier(), p);
            }
        }
        return known;
    }

    /** The settings given, as given (id to text), sorted by id. */
    Map<String, String> overrides() {
        return texts;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getPreferenceValue(TypedPreference<T> preference) {
        Object v = values.get(preference.getIdentifier());
        return v != null ? (T) v : preference.getDefaultValue();
    }
}
