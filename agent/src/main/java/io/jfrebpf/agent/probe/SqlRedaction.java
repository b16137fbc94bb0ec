package io.jfrebpf.agent.probe;

/**
 * Replaces the literals of a PostgreSQL statement with {@code ?}: strings ({@code '...'} with
 * {@code ''} inside, {@code E'...'} with backslash escapes, {@code U&'...'}, {@code B'...'},
 * {@code X'...'}, {@code N'...'}), dollar-quoted strings ({@code $$...$$}, {@code $tag$...$tag$})
 * and numbers ({@code 42}, {@code 3.5e-3}, {@code .5}, {@code 0x1F}, {@code 1_000}). What is
 * not a value stays: keywords, identifiers (also {@code "quoted"} ones and those containing
 * digits or {@code $}), parameters ({@code $1}), operators, and comments ({@code --} and nested
 * block comments: they carry tags such as sqlcommenter's). A text cut short (the probe keeps
 * 2,047 bytes) may end inside a literal: the rest is then redacted too.
 *
 * <p>Follows PostgreSQL's lexer (scan.l) with {@code standard_conforming_strings} on, the
 * default since 9.1: in a plain {@code '...'} a backslash is an ordinary character.
 */
public final class SqlRedaction {
    public static final String MARK = "?";

    private SqlRedaction() {
    }

    public static String redact(String sql) {
        StringBuilder out = new StringBuilder(sql.length());
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            char next = i + 1 < n ? sql.charAt(i + 1) : 0;
            if (c == '-' && next == '-') {
                int end = sql.indexOf('\n', i);
                end = end < 0 ? n : end;
                out.append(sql, i, end);
                i = end;
            } else if (c == '/' && next == '*') {
                int end = blockCommentEnd(sql, i);
                out.append(sql, i, end);
                i = end;
            } else if (c == '"') {
                int end = quotedEnd(sql, i + 1, '"', false);
                out.append(sql, i, end);
                i = end;
            } else if (c == '\'') {
                i = quotedEnd(sql, i + 1, '\'', false);
                out.append(MARK);
            } else if (startsPrefixedString(sql, i)) {
                boolean escapes = c == 'e' || c == 'E';
                int quote = sql.indexOf('\'', i);
                i = quotedEnd(sql, quote + 1, '\'', escapes);
                out.append(MARK);
            } else if (c == '$') { // not inside an identifier (a$b): those are consumed whole below
                int tagEnd = dollarTagEnd(sql, i);
                if (tagEnd > 0) {
                    String tag = sql.substring(i, tagEnd);
                    int close = sql.indexOf(tag, tagEnd);
                    i = close < 0 ? n : close + tag.length();
                    out.append(MARK);
                } else {
                    int end = i + 1;
                    while (end < n && isDigit(sql.charAt(end))) {
                        end++; // a parameter, $1
                    }
                    out.append(sql, i, end);
                    i = end;
                }
            } else if (isDigit(c) || (c == '.' && isDigit(next))) { // t1, a1b2: consumed whole as identifiers
                i = numberEnd(sql, i);
                out.append(MARK);
            } else if (isIdentifierStart(c)) {
                int end = i + 1;
                while (end < n && isIdentifierPart(sql.charAt(end))) {
                    end++;
                }
                out.append(sql, i, end);
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** E'..', B'..', X'..', N'..', U&'..' starting at i (a token's start: identifiers are consumed whole). */
    private static boolean startsPrefixedString(String sql, int i) {
        char c = Character.toUpperCase(sql.charAt(i));
        if ((c == 'E' || c == 'B' || c == 'X' || c == 'N') && i + 1 < sql.length() && sql.charAt(i + 1) == '\'') {
            return true;
        }
        return c == 'U' && sql.startsWith("&'", i + 1);
    }

    /** The index after the closing quote of a string or quoted identifier whose body starts at i (or the end). */
    private static int quotedEnd(String sql, int i, char quote, boolean backslashEscapes) {
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < n && sql.charAt(i + 1) == quote) {
                    i += 2; // doubled: part of the body
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    /** Block comments nest in PostgreSQL. */
    private static int blockCommentEnd(String sql, int i) {
        int depth = 0;
        int n = sql.length();
        while (i < n) {
            if (sql.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (sql.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    /** The index after the opening $tag$ at i, or -1 when it is not one ($1, or a lone $). */
    private static int dollarTagEnd(String sql, int i) {
        int n = sql.length();
        int j = i + 1;
        if (j < n && sql.charAt(j) == '$') {
            return j + 1; // $$
        }
        if (j >= n || !isIdentifierStart(sql.charAt(j))) {
            return -1;
        }
        while (j < n && sql.charAt(j) != '$') {
            char c = sql.charAt(j);
            if (!isIdentifierStart(c) && !isDigit(c)) {
                return -1;
            }
            j++;
        }
        return j < n ? j + 1 : -1;
    }

    /** Integers, decimals, exponents, 0x/0o/0b with underscores (PostgreSQL 16). */
    private static int numberEnd(String sql, int i) {
        int n = sql.length();
        if (sql.charAt(i) == '0' && i + 1 < n && "xXoObB".indexOf(sql.charAt(i + 1)) >= 0) {
            int j = i + 2;
            while (j < n && (Character.digit(sql.charAt(j), 16) >= 0 || sql.charAt(j) == '_')) {
                j++;
            }
            return j;
        }
        int j = i;
        while (j < n && (isDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
            j++;
        }
        if (j < n && sql.charAt(j) == '.' && !(j + 1 < n && sql.charAt(j + 1) == '.')) { // not a range 1..2
            j++;
            while (j < n && (isDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
                j++;
            }
        }
        if (j < n && (sql.charAt(j) == 'e' || sql.charAt(j) == 'E')) {
            int k = j + 1;
            if (k < n && (sql.charAt(k) == '+' || sql.charAt(k) == '-')) {
                k++;
            }
            if (k < n && isDigit(sql.charAt(k))) {
                j = k;
                while (j < n && isDigit(sql.charAt(j))) {
                    j++;
                }
            }
        }
        return j;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isIdentifierStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    private static boolean isIdentifierPart(char c) {
        return isIdentifierStart(c) || isDigit(c) || c == '$';
    }
}
