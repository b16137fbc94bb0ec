package io.jfrebpf.convert;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A terminal table: columns sized to their widest cell, numbers right-aligned, the last column left and unbounded. */
final class Table {
    private final String[] header;
    private final boolean[] right;
    private final List<String[]> rows = new ArrayList<>();

    /** Column names; a name starting with '>' is right-aligned (the '>' is not shown). */
    Table(String... header) {
        this.header = new String[header.length];
        this.right = new boolean[header.length];
        for (int i = 0; i < header.length; i++) {
            right[i] = header[i].startsWith(">");
            this.header[i] = right[i] ? header[i].substring(1) : header[i];
        }
    }

    Table row(Object... cells) {
        String[] r = new String[header.length];
        for (int i = 0; i < header.length; i++) {
            r[i] = i < cells.length && cells[i] != null ? cells[i].toString() : "";
        }
        rows.add(r);
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    void print(PrintStream out) {
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            width[i] = header[i].length();
            for (String[] r : rows) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        line(out, header, width);
        for (String[] r : rows) {
            line(out, r, width);
        }
    }

    private void line(PrintStream out, String[] cells, int[] width) {
        StringBuilder b = new StringBuilder("  ");
        for (int i = 0; i < cells.length; i++) {
            boolean last = i == cells.length - 1;
            String c = cells[i];
            if (last && !right[i]) {
                b.append(c);
            } else if (right[i]) {
                b.append(" ".repeat(width[i] - c.length())).append(c);
            } else {
                b.append(c).append(" ".repeat(width[i] - c.length()));
            }
            if (!last) {
                b.append("  ");
            }
        }
        out.println(b.toString().stripTrailing());
    }

    static String time(long ns) {
        if (ns >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f s", ns / 1e9);
        }
        if (ns >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.2f ms", ns / 1e6);
        }
        if (ns >= 1_000L) {
            return String.format(Locale.ROOT, "%.1f us", ns / 1e3);
        }
        return ns + " ns";
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MB", n / (double) (1L << 20));
        }
        if (n >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KB", n / (double) (1L << 10));
        }
        return n + " B";
    }

    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    static String shorten(String s, int max) {
        if (s == null) {
            return "";
        }
        String one = s.replace('\n', ' ').replaceAll("\\s+", " ");
        return one.length() <= max ? one : one.substring(0, max - 1) + "…";
    }
}
