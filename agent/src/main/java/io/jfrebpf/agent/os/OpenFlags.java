package io.jfrebpf.agent.os;

/** open(2) flags as text, x86_64 values: {@code O_RDONLY|O_CLOEXEC}. */
public final class OpenFlags {
    public static final int O_ACCMODE = 03;
    public static final int O_CREAT = 0100;
    public static final int O_TRUNC = 01000;
    public static final int O_WRONLY = 01;
    private static final int O_DSYNC = 010000;
    private static final int O_SYNC = 04010000;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_TMPFILE = 020200000;

    private static final Object[][] BITS = {
        {O_TMPFILE, "O_TMPFILE"}, {O_SYNC, "O_SYNC"},
        {0100, "O_CREAT"}, {0200, "O_EXCL"}, {0400, "O_NOCTTY"}, {01000, "O_TRUNC"}, {02000, "O_APPEND"},
        {04000, "O_NONBLOCK"}, {O_DSYNC, "O_DSYNC"}, {020000, "O_ASYNC"}, {040000, "O_DIRECT"},
        {0100000, "O_LARGEFILE"}, {O_DIRECTORY, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"}, {01000000, "O_NOATIME"},
        {02000000, "O_CLOEXEC"}, {010000000, "O_PATH"},
    };

    private OpenFlags() {
    }

    public static String format(int flags) {
        StringBuilder b = new StringBuilder(switch (flags & O_ACCMODE) {
            case 0 -> "O_RDONLY";
            case 1 -> "O_WRONLY";
            case 2 -> "O_RDWR";
            default -> "O_ACCMODE";
        });
        int rest = flags & ~O_ACCMODE;
        for (Object[] bit : BITS) {
            int mask = (int) bit[0];
            if ((rest & mask) == mask) {
                b.append('|').append((String) bit[1]);
                rest &= ~mask;
            }
        }
        if (rest != 0) {
            b.append("|0x").append(Integer.toHexString(rest));
        }
        return b.toString();
    }
}
