package io.jfrebpf.agent.probe;

import io.jfrebpf.bpf.FileOpenLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Mirror of {@code struct file_open_record} (bpf/file_open.h). Records are variable-length: the
 * kernel sends the fixed part and the path's {@code path_len} bytes (and its NUL).
 */
public record FileOpenRecord(EventHeader header, long result, int dirfd, int flags, int mode, boolean truncated,
        boolean errnoUnknown, String path) {
    public static final long SIZE = FileOpenLayout.FileOpenRecord.SIZE;
    public static final long HEADER = FileOpenLayout.FileOpenRecord.HEADER;
    public static final long RESULT = FileOpenLayout.FileOpenRecord.RESULT;
    public static final long DIRFD = FileOpenLayout.FileOpenRecord.DIRFD;
    public static final long FLAGS = FileOpenLayout.FileOpenRecord.FLAGS;
    public static final long MODE = FileOpenLayout.FileOpenRecord.MODE;
    public static final long PATH_FLAGS = FileOpenLayout.FileOpenRecord.PATH_FLAGS;
    public static final long PATH_LEN = FileOpenLayout.FileOpenRecord.PATH_LEN;
    public static final long PATH = FileOpenLayout.FileOpenRecord.PATH;
    public static final int FILE_PATH_MAX = (int) FileOpenLayout.FILE_PATH_MAX;
    public static final int FILE_OPEN_TRUNCATED = (int) FileOpenLayout.FILE_OPEN_TRUNCATED;
    public static final int FILE_OPEN_ERRNO_UNKNOWN = (int) FileOpenLayout.FILE_OPEN_ERRNO_UNKNOWN;
    public static final int AT_FDCWD = (int) FileOpenLayout.FILE_OPEN_AT_FDCWD;

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
