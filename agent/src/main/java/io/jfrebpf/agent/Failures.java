package io.jfrebpf.agent;

import static io.jfrebpf.agent.os.Errno.EACCES;
import static io.jfrebpf.agent.os.Errno.EINVAL;
import static io.jfrebpf.agent.os.Errno.ENOENT;
import static io.jfrebpf.agent.os.Errno.ENOSYS;
import static io.jfrebpf.agent.os.Errno.EOPNOTSUPP;
import static io.jfrebpf.agent.os.Errno.EPERM;

import io.jfrebpf.agent.libbpf.BpfException;

/** Turns a failure to load or attach into the one line a user can act on. */
public final class Failures {
    private Failures() {
    }

    public static String explain(Throwable t) {
        BpfException bpf = find(t);
        if (bpf != null) {
            String hint = bpf.hint() != null ? bpf.hint() : switch (bpf.errno()) {
                case EPERM, EACCES -> "not permitted: loading BPF programs needs root, or CAP_BPF and CAP_PERFMON"
                        + " (and CAP_SYS_ADMIN for some attach types)";
                case ENOSYS -> "this kernel has no BPF support (ENOSYS)";
                case EOPNOTSUPP -> "this kernel does not support a BPF feature the probe needs (EOPNOTSUPP)";
                case ENOENT -> "a kernel hook or symbol the probe needs is missing (ENOENT)";
                case EINVAL -> "the kernel rejected the program or attachment (EINVAL)";
                default -> null;
            };
            return hint == null ? bpf.getMessage() : hint + " — " + bpf.getMessage();
        }
        String message = t.getMessage();
        return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    private static BpfException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BpfException b) {
                return b;
            }
        }
        return null;
    }
}
