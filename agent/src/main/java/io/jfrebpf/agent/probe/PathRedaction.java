package io.jfrebpf.agent.probe;

import java.util.List;

/**
 * {@code redact.paths}: a path under one of the given directories is recorded as that directory
 * followed by {@code /<redacted>} — where it was, not what: file names under a home directory
 * or a secrets mount can themselves be sensitive.
 */
public final class PathRedaction {
    public static final String REDACTED = "<redacted>";

    private PathRedaction() {
    }

    /** The path to record. A prefix matches whole components only: /home covers /home/a, not /homework. */
    public static String apply(String path, List<String> prefixes) {
        if (path == null) {
            return null;
        }
        for (String prefix : prefixes) {
            if (path.startsWith(prefix) && (path.length() == prefix.length() || path.charAt(prefix.length()) == '/')) {
                return path.length() == prefix.length() ? path : prefix + "/" + REDACTED;
            }
        }
        return path;
    }
}
