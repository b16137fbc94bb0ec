package io.jfrebpf.agent.probe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Mirror of {@code struct file_open_record} (bpf/file_open.h). Records are variable-length: the
 * kernel sends the fixed part and the path's {@code path_len} bytes (and its NUL).
 */
public record FileOpenRecord(EventHeader header, long result, int dirfd, int flags, int mode, boolean truncated,
        boolean errnoUnknown, String path) {
    public static final long SIZE = 56 + 32 + 4096;
    public static final long HEADER = 0;
    public static final long RESULT = 56;
    public static final long DIRFD = 64;
    public static final long FLAGS = 68;
    public static final long MODE = 72;
    public static final long PATH_FLAGS = 76;
    public static final long PATH_LEN = 80;
    public static final long PATH = 88;
    public static final int FILE_PATH_MAX = 4096;
    public static final int FILE_OPEN_TRUNCATED = 1;
    public static final int FILE_OPEN_ERRNO_UNKNOWN = 2;
    public static final int AT_FDCWD = -100;

    public static FileOpenRecord decode(MemorySegment record) {
        Records.requireSize(record, PATH, "file_open_record");
        int pathFlags = record.get(ValueLayout.JAVA_INT_UNALIGNED, PATH_FLAGS);
        int len = record.get(ValueLayout.JAVA_INT_UNALIGNED, PATH_LEN);
        int available = (int) Math.min(FILE_PATH_MAX, record.byteSize() - PATH);
        String path = len >= 0 && len <= available
                ? Records.string(record, PATH, len)
                : Records.cString(record, PATH, available);
        return new FileOpenRecord(EventHeader.decode(record), record.get(ValueLayout.JAVA_LONG_UNALIGNED, RESULT),
                record.get(ValueLayout.JAVA_INT_UNALIGNED, DIRFD), record.get(ValueLayout.JAVA_INT_UNALIGNED, FLAGS),
                record.get(ValueLayout.JAVA_INT_UNALIGNED, MODE), (pathFlags & FILE_OPEN_TRUNCATED) != 0,
                (pathFlags & FILE_OPEN_ERRNO_UNKNOWN) != 0, path);
    }
}
