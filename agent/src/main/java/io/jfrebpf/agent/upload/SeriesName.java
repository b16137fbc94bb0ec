package io.jfrebpf.agent.upload;

import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * The {@code name} parameter of {@code /ingest}: {@code service{key=value,...}}. The server's
 * parser (grafana/pyroscope api/model/labelset/labelset.go, Parse) has no escapes: a value ends
 * at the first {@code ,} or {@code }}, and is trimmed; a key may hold letters, digits, {@code _}
 * and {@code .} only (validate.go, ValidateLabelName) and is otherwise refused with HTTP 400; a
 * value may be at most 2048 bytes long (validation.max-length-label-value). So each value has those
 * characters, {@code {}, {@code =}, whitespace and controls replaced by {@code _} (as
 * pyroscope-java refuses them: AppName.isValidLabel), is cut to its limit, and an empty one is left
 * out, as is a key that is not valid.
 */
final class SeriesName {
    static final int MAX_VALUE_BYTES = 2048;

    private SeriesName() {
    }

    static String of(String service, Map<String, String> labels) {
        StringJoiner j = new StringJoiner(",", "{", "}");
        for (Map.Entry<String, String> e : new TreeMap<>(labels).entrySet()) {
            String value = value(e.getValue());
            if (validKey(e.getKey()) && !value.isEmpty()) {
                j.add(e.getKey() + "=" + value);
            }
        }
        return service + j;
    }

    static boolean validKey(String key) {
        if (key == null || key.isEmpty() || key.equals("__name__")) {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    static String value(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(Math.min(text.length(), MAX_VALUE_BYTES));
        int bytes = 0;
        String s = text.strip();
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == ',' || cp == '{' || cp == '}' || cp == '=' || Character.isWhitespace(cp) || Character.isISOControl(cp)
                    || Character.isSurrogate((char) cp)) {
                cp = '_';
            }
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + n > MAX_VALUE_BYTES) {
                break;
            }
            bytes += n;
            b.appendCodePoint(cp);
        }
        return b.toString();
    }
}
