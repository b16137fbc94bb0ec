package io.jfrebpf.agent.libbpf;

import java.lang.foreign.MemorySegment;

/** One attachment of a program; closing it detaches. */
public final class BpfLink implements AutoCloseable {
    private MemorySegment link;
    private int fd = -1;
    private final String description;

    BpfLink(MemorySegment link, String description) {
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

    @Override
    public synchronized void close() {
        if (link != null) {
            LibBpf.call(LibBpf.LINK_DESTROY, link);
            link = null;
        }
        if (fd >= 0) {
            LibBpf.callInt(LibBpf.CLOSE, fd);
            fd = -1;
        }
    }
}
