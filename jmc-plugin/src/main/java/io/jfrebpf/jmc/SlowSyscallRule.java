package io.jfrebpf.jmc;

import io.jfrebpf.events.read.CallSites;
import io.jfrebpf.events.read.EventNames;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.openjdk.jmc.common.item.IItemCollection;
import org.openjdk.jmc.common.unit.IQuantity;
import org.openjdk.jmc.common.util.IPreferenceValueProvider;
import org.openjdk.jmc.common.util.TypedPreference;
import org.openjdk.jmc.flightrecorder.rules.IResult;

/** System calls that took long on application threads — not the ones that wait by design (futex, epoll, sleep...). */
public final class SlowSyscallRule extends EbpfRule {
    static final TypedPreference<IQuantity> THRESHOLD = time("syscall.slow", "Slow syscall",
            "A syscall at least this long on an application thread is reported", 10);
    /** Calls whose job is to wait: long by design. */
    static final Set<String> WAITING = Set.of("futex", "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select",
            "pselect6", "nanosleep", "clock_nanosleep", "wait4", "waitid", "rt_sigtimedwait", "rt_sigsuspend", "pause", "accept",
            "accept4", "read", "recvfrom", "recvmsg", "recvmmsg", "io_getevents", "io_uring_enter", "sched_yield", "restart_syscall");

    public SlowSyscallRule() {
        super("SlowSyscall", "Slow System Calls on Application Threads", List.of(EventNames.SYSCALL_LATENCY), THRESHOLD, APP_PACKAGES);
    }

    @Override
    IResult evaluate(IItemCollection items, IPreferenceValueProvider p) {
        CallSites callSites = callSites(p);
        List<Events.Event> calls = Events.of(items, EventNames.SYSCALL_LATENCY);
        if (calls.isEmpty()) {
            return notApplicable(p, "No " + EventNames.SYSCALL_LATENCY + " events: record with probes=syscall (opt-in) to see slow system calls.");
        }
        long threshold = nanos(p, THRESHOLD);
        Map<String, Long> total = new HashMap<>();
        Map<String, Long> count = new HashMap<>();
        for (Events.Event e : calls) {
            String name = e.text("syscall");
            if (name == null || WAITING.contains(name) || !e.onApplicationThread() || e.durationNanos() < threshold) {
                continue;
            }
            String key = name + " from " + e.callSite(callSites);
            total.merge(key, e.durationNanos(), Long::sum);
            count.merge(key, 1L, Long::sum);
        }
        if (total.isEmpty()) {
            return ok(p, "No syscall took " + ms(threshold) + " or more on an application thread.");
        }
        StringBuilder list = new StringBuilder();
        for (Map.Entry<String, Long> e : Events.top(total, 5)) {
            list.append(count.get(e.getKey())).append(" x ").append(e.getKey()).append(" (").append(ms(e.getValue())).append(" in all); ");
        }
        return result(p, WARNING, total.size() + " kinds of slow syscalls on application threads: " + list,
                "These calls held an application thread in the kernel for " + ms(threshold) + " or more each (waiting calls such as futex,"
                        + " epoll_wait or nanosleep are left out: they wait by design).",
                "Look at the code named: move fsync, large writes or opens off request threads, batch them, or use a faster device.");
    }
}
