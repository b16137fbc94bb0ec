package io.jfrebpf.agent.libbpf;

/** A libbpf call failed: the message names the call, its object, the errno name and libbpf's explanation. */
public final class BpfException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int errno;
    private final String hint;

    public BpfException(String message, int errno) {
        this(message, errno, null);
    }

    private BpfException(String message, int errno, String hint) {
        super(message);
        this.errno = errno;
        this.hint = hint;
    }

    /** The same failure with what the caller knows the user can do about it. */
    public BpfException withHint(String hint) {
        BpfException e = new BpfException(getMessage(), errno, hint);
        e.setStackTrace(getStackTrace());
        return e;
    }

    /** What to do about it, when the caller knew better than the errno alone; else null. */
    public String hint() {
        return hint;
    }

    /** The errno of the failure (positive), 0 when not an errno. */
    public int errno() {
        return errno;
    }
}
