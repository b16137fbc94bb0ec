package io.jfrebpf.agent;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import net.bytebuddy.agent.ByteBuddyAgent;

/**
 * {@code attach <pid>}, {@code dump <pid>} and {@code stop <pid>}: loads this jar into a running
 * JVM as an agent, with the options (attach) or a command (dump, stop). Through Byte Buddy's
 * attacher: the JDK's attach API when present, its own socket protocol otherwise. The target
 * writes its own {@code [jfr-ebpf]} lines to its stderr; failures to reach it are explained here.
 */
final class Attach {
    private Attach() {
    }

    static int load(String pidText, String argument, PrintStream out) {
        long pid;
        try {
            pid = Long.parseLong(pidText);
        } catch (NumberFormatException e) {
            System.err.println("jfr-ebpf: '" + pidText + "' is not a process id");
            return 2;
        }
        Optional<ProcessHandle> target = ProcessHandle.of(pid);
        if (target.isEmpty()) {
            System.err.println("jfr-ebpf: no process " + pid + " (or it is in another pid namespace)");
            return 2;
        }
        if (!argument.equals(Control.STOP_COMMAND) && !argument.startsWith(Control.DUMP_COMMAND)) {
            try {
                Options.parse(argument); // the target would print the same error where nobody may look
            } catch (IllegalArgumentException e) {
                System.err.println("jfr-ebpf: " + e.getMessage());
                return 2;
            }
        }
        File jar;
        try {
            jar = ownJar();
        } catch (IOException e) {
            System.err.println("jfr-ebpf: " + e.getMessage());
            return 2;
        }
        try {
            ByteBuddyAgent.attach(jar, String.valueOf(pid), argument);
        } catch (RuntimeException e) {
            System.err.println("jfr-ebpf: cannot load the agent into " + pid + ": " + explain(e, pid));
            return 1;
        }
        if (argument.equals(Control.STOP_COMMAND)) {
            out.println("jfr-ebpf: asked " + pid + " to write its recording and detach (its stderr says where)");
        } else if (argument.startsWith(Control.DUMP_COMMAND)) {
            out.println("jfr-ebpf: asked " + pid + " to write its recording so far (its stderr says where)");
        } else {
            out.println("jfr-ebpf: agent loaded into " + pid + (argument.isEmpty() ? "" : " with " + argument)
                    + "; its [jfr-ebpf] lines go to that JVM's stderr");
        }
        return 0;
    }

    private static File ownJar() throws IOException {
        try {
            Path jar = Path.of(Attach.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(jar)) {
                throw new IOException("attach works from the agent jar (java -jar jfr-ebpf-agent.jar attach <pid>), not from " + jar);
            }
            return jar.toFile();
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            throw new IOException("cannot find the agent jar: " + e);
        }
    }

    private static String explain(Throwable e, long pid) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = String.valueOf(root.getMessage());
        String hint = "";
        try {
            long owner = ((Number) Files.getAttribute(Path.of("/proc/" + pid), "unix:uid")).longValue();
            long me = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
            if (owner != me && me != 0) {
                hint = " (the JVM runs as uid " + owner + ", this command as uid " + me + ": run it as that user or root)";
            }
        } catch (IOException | RuntimeException ignored) {
            // no hint
        }
        if (message.contains("AttachNotSupported") || root.getClass().getSimpleName().contains("AttachNotSupported")) {
            hint += " (the JVM may run with -XX:+DisableAttachMechanism, or in another container)";
        }
        return root.getClass().getSimpleName() + ": " + message + hint;
    }
}
