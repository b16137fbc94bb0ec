package io.jfrebpf.agent.libbpf;

/** A libbpf call failed: the message names the call, its object, the errno name and libbpf's explanation. */
public final class BpfException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int errno;

    public BpfException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The errno of the failure (positive), 0 when not an errno. */
    public int errno() {
        return errno;
    }
}
