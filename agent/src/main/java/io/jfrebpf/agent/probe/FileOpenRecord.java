package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.libbpf.BpfBytes;
import io.jfrebpf.bpf.FileOpenLayout;
import java.lang.foreign.MemorySegment;

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
        BpfBytes r = BpfBytes.of(record, PATH + FILE_PATH_MAX);
        int pathFlags = r.u32(PATH_FLAGS);
        int len = r.u32(PATH_LEN);
        int available = (int) Math.min(FILE_PATH_MAX, r.size() - PATH);
        String path = len >= 0 && len <= available ? r.string(PATH, len) : r.cString(PATH, available);
        return new FileOpenRecord(EventHeader.decode(r), r.u64(RESULT), r.u32(DIRFD), r.u32(FLAGS), r.u32(MODE),
                (pathFlags & FILE_OPEN_TRUNCATED) != 0, (pathFlags & FILE_OPEN_ERRNO_UNKNOWN) != 0, path);
    }
}
