package io.jfrebpf.agent.os;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** The sockets a process holds, by inode, from the links in {@code /proc/<pid>/fd}. */
public final class ProcFds {
    private ProcFds() {
    }

    /**
     * Inodes of the sockets of {@code pid} ("self" for ours). Another user's process takes
     * CAP_DAC_READ_SEARCH (to list the directory) and CAP_SYS_PTRACE (to read the links):
     * without them, an {@link AccessDeniedException}.
     */
    public static Set<Long> socketInodes(String pid) throws IOException {
        Set<Long> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", pid, "fd"))) {
            for (Path fd : fds) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (AccessDeniedException e) {
                    throw e; // listing another user's fds takes CAP_DAC_READ_SEARCH, reading them CAP_SYS_PTRACE
                } catch (IOException e) {
                    continue; // closed meanwhile
                }
                long inode = socketInode(target);
                if (inode > 0) {
                    inodes.add(inode);
                }
            }
        }
        return inodes;
    }

    /** The inode of a link target "socket:[12345]", else -1. */
    public static long socketInode(String target) {
        if (!target.startsWith("socket:[") || !target.endsWith("]")) {
            return -1;
        }
        try {
            return Long.parseLong(target, 8, target.length() - 1, 10);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
