package io.jfrebpf.agent.libbpf;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

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

    /**
     * Closes links together, each on a short-lived thread of its own, and waits for them (at most
     * {@code timeoutMillis}): detaching a uprobe waits for an RCU grace period (~100 ms here), and
     * waits that overlap end together, so a probe's links cost about one wait instead of one each.
     * Never throws; a link whose close failed or did not finish in time is left to the kernel,
     * which detaches it when the process ends.
     */
    public static void closeAll(List<BpfLink> links, long timeoutMillis) {
        if (links.size() == 1) {
            closeQuietly(links.get(0));
            return;
        }
        List<Thread> threads = new ArrayList<>(links.size());
        for (BpfLink link : links) {
            Thread t = new Thread(() -> closeQuietly(link), "jfr-ebpf-detach");
            t.setDaemon(true);
            try {
                t.start();
                threads.add(t);
            } catch (OutOfMemoryError | RuntimeException e) {
                closeQuietly(link); // no thread to spare: here, one after the other
            }
        }
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                t.join(Math.max(1, left / 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void closeQuietly(BpfLink link) {
        try {
            link.close();
        } catch (RuntimeException | Error e) {
            // detached by the kernel at exit at the latest
        }
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
