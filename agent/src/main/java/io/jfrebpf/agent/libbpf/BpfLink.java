package io.jfrebpf.agent.libbpf;

import java.lang.foreign.MemorySegment;

/** One attachment of a program; closing it detaches. */
public final class BpfLink implements AutoCloseable {
    private MemorySegment link;
    private final String description;

    BpfLink(MemorySegment link, String description) {
        this.link = link;
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
    }
}
