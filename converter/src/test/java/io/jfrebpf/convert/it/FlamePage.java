package io.jfrebpf.convert.it;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The frames of an async-profiler flame graph page, read as its script builds them: the
 * prefix-compressed pool of frame names, then f/u/n calls (key = pool index << 3 | type,
 * width) and, in a differential graph, the current difference set by {@code d=...} lines.
 */
record FlamePage(List<String> names, Map<String, Long> widthByFrame, Map<String, Long> diffByFrame) {
    static FlamePage of(String html) {
        int start = html.indexOf("const cpool = [");
        int end = html.indexOf("];", start);
        List<String> pool = new ArrayList<>();
        Matcher s = Pattern.compile("'((?:[^'\\\\]|\\\\.)*)'").matcher(html.substring(start, end));
        while (s.find()) {
            String raw = s.group(1).replace("\\'", "'").replace("\\\\", "\\");
            if (pool.isEmpty()) {
                pool.add(raw);
            } else {
                String prev = pool.get(pool.size() - 1);
                int keep = raw.charAt(0) - 32;
                pool.add(prev.substring(0, Math.min(keep, prev.length())) + raw.substring(1));
            }
        }
        Map<String, Long> widths = new HashMap<>();
        Map<String, Long> diffs = new HashMap<>();
        long d = 0;
        long width = 0;
        Matcher calls = Pattern.compile("(?m)^(?:d=(-?\\d+)|([fun])\\((\\d+)(?:,(\\d+))?(?:,(\\d+))?)")
                .matcher(html.substring(html.indexOf("unpack(cpool);", end)));
        while (calls.find()) {
            if (calls.group(1) != null) {
                d = Long.parseLong(calls.group(1));
                continue;
            }
            String kind = calls.group(2);
            String name = pool.get(Integer.parseInt(calls.group(3)) >>> 3);
            // f(key, level, left, width), u(key, width), n(key, width); a missing width repeats the last one
            String w = kind.equals("f") ? null : calls.group(4);
            if (w != null) {
                width = Long.parseLong(w);
            }
            widths.merge(name, width, Long::sum);
            diffs.merge(name, d, Long::sum);
        }
        return new FlamePage(pool, widths, diffs);
    }

    boolean hasFrame(String contains) {
        return names.stream().anyMatch(n -> n.contains(contains));
    }

    long diffFor(String contains) {
        return diffByFrame.entrySet().stream().filter(e -> e.getKey().contains(contains)).mapToLong(Map.Entry::getValue).sum();
    }
}
