package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.os.NativeFunction;

/** One attachment of a program; closing it detaches. */
public final class BpfLink implements AutoCloseable {
    private static final NativeFunction FD = LibBpf.function("bpf_link__fd");
    private static final NativeFunction DESTROY = LibBpf.function("bpf_link__destroy");

    /** struct bpf_link *, 0 when closed or when the link is a bare fd. */
    private long link;
    private int fd = -1;
    private final String description;

    BpfLink(long link, String description) {
        this.link = link;
        this.description = description;
    }

    /** A link the kernel gave as a file descriptor (BPF_LINK_CREATE without libbpf): closing it detaches. */
    BpfLink(int fd, String description) {
        this.fd = fd;
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** The link's fd (libbpf's or the bare one); -1 when closed. */
    synchronized int fd() {
        return link != 0 ? (int) FD.call(link) : fd;
    }

    @Override
    public synchronized void close() {
        if (link != 0) {
            DESTROY.call(link);
            link = 0;
        }
        if (fd >= 0) {
            LibBpf.closeFd(fd);
            fd = -1;
        }
    }
}
