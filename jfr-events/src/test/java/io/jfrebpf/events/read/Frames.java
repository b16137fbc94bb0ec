package io.jfrebpf.events.read;

import java.util.ArrayList;
import java.util.List;

/**
 * Stacks for the tests, written the way a person reads them, innermost first:
 * {@code "java com.example.Repo.find:31"}, {@code "native libc.so.6 write"},
 * {@code "kernel kernel ksys_write"}.
 */
record Frames(List<String[]> frames, boolean truncated) implements StackFrames {
    static Frames of(String... lines) {
        return of(false, lines);
    }

    static Frames of(boolean truncated, String... lines) {
        List<String[]> frames = new ArrayList<>();
        for (String line : lines) {
            String[] p = line.split(" ");
            if (p[0].equals("java")) {
                String where = p[1];
                int colon = where.indexOf(':');
                String method = colon < 0 ? where : where.substring(0, colon);
                int dot = method.lastIndexOf('.');
                frames.add(new String[] {"java", method.substring(0, dot), method.substring(dot + 1), colon < 0 ? "0" : where.substring(colon + 1)});
            } else {
                frames.add(new String[] {p[0], p[1], p[2], "0"});
            }
        }
        return new Frames(frames, truncated);
    }

    @Override
    public int count() {
        return frames.size();
    }

    @Override
    public String typeName(int i) {
        return frames.get(i)[1];
    }

    @Override
    public String methodName(int i) {
        return frames.get(i)[2];
    }

    @Override
    public int lineNumber(int i) {
        return Integer.parseInt(frames.get(i)[3]);
    }

    @Override
    public boolean isJava(int i) {
        return frames.get(i)[0].equals("java");
    }
}
