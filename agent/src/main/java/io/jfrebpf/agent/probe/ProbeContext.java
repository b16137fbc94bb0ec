package io.jfrebpf.agent.probe;

import io.jfrebpf.agent.Options;
import io.jfrebpf.agent.libbpf.RingBufferPoller;
import io.jfrebpf.agent.os.SyscallTable;
import io.jfrebpf.agent.stack.StackMaps;
import java.util.function.Supplier;

/**
 * What a probe needs from the agent: the target process, the agent's own threads (not traced:
 * their reads and writes of our files would otherwise feed back into the events), the
 * options, where records go and where events go. Everything here is used on the agent's poller
 * thread only.
 */
public record ProbeContext(
        int pid,
        int agentTid,
        int writerTid,
        Options options,
        RingBufferPoller poller,
        Recorder recorder,
        Supplier<SyscallTable> syscalls,
        StackMaps stacks,
        ConnectListeners connects,
        BackgroundWork background) {
}
