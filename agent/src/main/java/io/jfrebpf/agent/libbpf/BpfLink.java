package io.jfrebpf.agent.libbpf;

import io.jfrebpf.agent.os.NativeFunction;
import java.util.ArrayList;
import java.util.List;

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

    /**
     * Closes links together, each on a short-lived thread of its own, and waits for them (at most
     * {@code timeoutMillis}): detaching a uprobe waits for an RCU grace period (~100 ms here), and
     * waits that overlap end together, so a probe's links cost about one wait instead of one each.
     * Never throws; a link whose close failed or did not finish in time is left to the kernel,
     * which detaches it when the process ends.
     */
    /** A link's detach thread (a class, not a lambda: each costs a spun class). */
    private static final class Closing implements Runnable {
        private final BpfLink link;

        Closing(BpfLink link) {
            this.link = link;
        }

        @Override
        public void run() {
            closeQuietly(link);
        }
    }

    public static void closeAll(List<BpfLink> links, long timeoutMillis) {
        if (links.size() == 1) {
            closeQuietly(links.get(0));
            return;
        }
        List<Thread> threads = new ArrayList<>(links.size());
        for (BpfLink link : links) {
            Thread t = new Thread(new Closing(link), "jfr-ebpf-detach");
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
