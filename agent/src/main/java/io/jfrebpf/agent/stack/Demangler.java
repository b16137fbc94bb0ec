package io.jfrebpf.agent.stack;

/**
 * Readable names for the Itanium C++ ABI symbols of libjvm and JNI libraries, to the depth a
 * stack frame needs: the qualified function name without parameters ({@code JavaThread::run}
 * for {@code _ZN10JavaThread3runEv}). Names it does not understand are returned as they are.
 */
final class Demangler {
    private Demangler() {
    }

    static String demangle(String raw) {
        if (raw == null || !raw.startsWith("_Z") || raw.length() < 3) {
            return raw;
        }
        // compiler clones: foo.constprop.1, foo.isra.0, foo.part.2, foo.cold
        int dot = raw.indexOf('.');
        String symbol = dot > 0 ? raw.substring(0, dot) : raw;
        try {
            int[] pos = {2};
            if (symbol.charAt(2) == 'L') {
                pos[0] = 3; // internal linkage (a static function)
            }
            String name;
            if (symbol.charAt(pos[0]) == 'N') {
                pos[0]++;
                // cv-qualifiers of a member function
                while (pos[0] < symbol.length() && "rVKRO".indexOf(symbol.charAt(pos[0])) >= 0) {
                    pos[0]++;
                }
                StringBuilder b = new StringBuilder();
                while (pos[0] < symbol.length() && symbol.charAt(pos[0]) != 'E') {
                    String part = part(symbol, pos, b);
                    if (part == null) {
                        return raw;
                    }
                    if (!part.isEmpty()) {
                        if (!b.isEmpty()) {
                            b.append("::");
                        }
                        b.append(part);
                    }
                }
                name = b.toString();
            } else {
                name = part(symbol, pos, new StringBuilder());
            }
            return name == null || name.isEmpty() ? raw : name;
        } catch (RuntimeException e) {
            return raw;
        }
    }

    /** One component: a length-prefixed identifier, a ctor/dtor, template args (skipped), or null. */
    private static String part(String s, int[] pos, StringBuilder qualified) {
        int p = pos[0];
        char c = s.charAt(p);
        if (Character.isDigit(c)) {
            int len = 0;
            while (Character.isDigit(s.charAt(p))) {
                len = len * 10 + (s.charAt(p++) - '0');
            }
            pos[0] = p + len;
            return s.substring(p, p + len);
        }
        if (c == 'C' || c == 'D') {
            pos[0] = p + 2;
            String last = qualified.toString();
            int at = last.lastIndexOf("::");
            String cls = at < 0 ? last : last.substring(at + 2);
            return c == 'C' ? cls : "~" + cls;
        }
        if (c == 'I') {
            // template arguments: skip to the matching E
            int depth = 0;
            do {
                char d = s.charAt(p++);
                if (d == 'I') {
                    depth++;
                } else if (d == 'E') {
                    depth--;
                }
            } while (depth > 0);
            pos[0] = p;
            return "";
        }
        if (c == 'S' && p + 1 < s.length() && s.charAt(p + 1) == 't') {
            pos[0] = p + 2;
            return "std";
        }
        if (c == 'L') {
            pos[0] = p + 1;
            return "";
        }
        return null;
    }
}
