package io.jfrebpf.agent.probe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Mirror of {@code struct file_open_record} (bpf/file_open.h). */
public record FileOpenRecord(EventHeader header, long result, int dirfd, int flags, int mode, boolean truncated,
        String path) {
    public static final long SIZE = 48 + 32 + 4096;
    public static final long HEADER = 0;
    public static final long RESULT = 48;
    public static final long DIRFD = 56;
    public static final long FLAGS = 60;
    public static final long MODE = 64;
    public static final long PATH_FLAGS = 68;
    public static final long PATH_LEN = 72;
    public static final long PATH = 80;
    public static final int FILE_PATH_MAX = 4096;
    public static final int FILE_OPEN_TRUNCATED = 1;
    public static final int AT_FDCWD = -100;

    public static FileOpenRecord decode(MemorySegment record) {
        Records.requireSize(record, SIZE, "file_open_record");
        int pathFlags = record.get(ValueLayout.JAVA_INT_UNALIGNED, PATH_FLAGS);
        int len = record.get(ValueLayout.JAVA_INT_UNALIGNED, PATH_LEN);
        String path = len >= 0 && len <= FILE_PATH_MAX
                ? Records.string(record, PATH, len)
                : Records.cString(record, PATH, FILE_PATH_MAX);
        return new FileOpenRecord(EventHeader.decode(record), record.get(ValueLayout.JAVA_LONG_UNALIGNED, RESULT),
                record.get(ValueLayout.JAVA_INT_UNALIGNED, DIRFD), record.get(ValueLayout.JAVA_INT_UNALIGNED, FLAGS),
                record.get(ValueLayout.JAVA_INT_UNALIGNED, MODE), (pathFlags & FILE_OPEN_TRUNCATED) != 0, path);
    }
}
