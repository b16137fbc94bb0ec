// SPDX-License-Identifier: Apache-2.0
/*
 * offcpu: the time each of our threads spends off CPU. At sched_switch, a thread of ours that
 * leaves the CPU has its time, state and user stack kept by tid; when it comes back the stretch
 * is measured and, at or above min_duration_ns, sent with its kernel stack (offcpu.h). Other processes'
 * switches return after two comparisons (tp_btf: no tracepoint buffer is filled).
 *
 * A thread whose coming back the tracepoint did not show (sched_gap.bpf.h) is found leaving with
 * its stretch still open: the stretch is sent then, ending when the thread came back, with its
 * user stack and no kernel stack (that is gone by then).
 */
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "stack.bpf.h"
#include "offcpu.h"
#include "sched_gap.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_duration_ns = 1000000;

#define TASK_DEAD 0x80 /* include/linux/sched.h: a thread's last switch-out */

struct blocked {
	__u64 ns;
	__u64 user_stack;
	__u64 runtime; /* se.sum_exec_runtime when it left */
	__u64 started; /* task_started() */
	__u64 java_thread_id; /* mounted when it left (mounted.bpf.h) */
	__u32 state;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct blocked);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} events SEC(".maps");

static __always_inline void send(struct task_struct *t, const struct blocked *b, __u64 end, bool kernel_stack)
{
	struct offcpu_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return;
	}
	fill_task_header(&r->header, t, b->ns, end, b->user_stack, b->java_thread_id);
	r->state = b->state;
	r->kernel_depth = 0;
	if (kernel_stack) {
		/* t has not run yet: its kernel stack is still the one it blocked with */
		long bytes = bpf_get_task_stack(t, r->kernel_ips, sizeof(r->kernel_ips), 0);
		r->kernel_depth = bytes > 0 ? (__u32)((__u64)bytes / 8) : 0;
	}
	bpf_ringbuf_submit(r, ringbuf_wakeup_flags(&events));
}

/*
 * prev leaves while its last stretch is still open: it came back without this program seeing it.
 * It has run for (runtime now - runtime then) since, so it came back that long before now.
 */
static __always_inline void recover(struct task_struct *prev, const struct blocked *old, const struct blocked *b)
{
	if (old->started != b->started)
		return; /* an entry left by an earlier thread with this tid */
	/* 0: it ran about all the time since it left (the two clocks disagree by a little) */
	__u64 back = came_back_at(b->ns, b->runtime, old->ns, old->runtime);
	if (back && back - old->ns >= min_duration_ns) {
		send(prev, old, back, false);
		count_recovered();
	}
}

/*
 * HotSpot's own threads, by the names it gives them (os::set_native_thread_name; comm keeps 15
 * bytes): compilers, GC workers, the VM thread and its periodic tasks. They block to wait for
 * work, thousands of times in an idle JVM; their stretches are not where an application waits
 * (the rules leave them out) and each cost a user-stack walk here and a symbolized stack later.
 * Their CPU time stays in ebpf.CPUSample.
 */
#define OWN_THREAD_NAMES 13
static const char own_thread_names[OWN_THREAD_NAMES][16] = {
	"C1 CompilerThre", "C2 CompilerThre", "VM Thread", "VM Periodic Tas", "GC Thread#", "G1 ",
	"Service Thread", "Monitor Deflati", "ZDirector", "ZDriver", "ZWorker", "ZStat", "Shenandoah",
};

static __always_inline bool starts_with(const char *s, const char *prefix)
{
	for (int i = 0; i < 16; i++) {
		if (prefix[i] == 0)
			return true;
		if (s[i] != prefix[i])
			return false;
	}
	return true;
}

/* Whether the current task is one of HotSpot's own threads (see own_thread_names). */
static __always_inline bool hotspot_own_thread(void)
{
	char comm[16];
	if (bpf_get_current_comm(comm, sizeof(comm)))
		return false;
	for (int n = 0; n < OWN_THREAD_NAMES; n++) {
		if (starts_with(comm, own_thread_names[n]))
			return true;
	}
	return false;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = 0;
	if (is_target_task(prev) && !hotspot_own_thread()) {
		/* prev is still the current task: its registers and kernel stack are the ones that block */
		now = bpf_ktime_get_ns();
		__u32 tid = BPF_CORE_READ(prev, pid);
		/* the user stack now (the walk needs the thread's own address space, which is current);
		 * the kernel stack later, and only if the stretch is long enough: unwinding it here cost
		 * 3.6 us per switch-out on our VM, for every short block too */
		struct blocked b = {
			.ns = now,
			.user_stack = current_user_stack(STACK_SLOT_SCHED),
			.runtime = task_runtime(prev),
			.started = task_started(prev),
			.java_thread_id = mounted_thread_id(),
			.state = preempt ? 0 : get_task_state(prev),
		};
		if (b.state & TASK_DEAD) {
			bpf_map_delete_elem(&blocked, &tid); /* it will not come back */
		} else if (bpf_map_update_elem(&blocked, &tid, &b, BPF_NOEXIST)) {
			struct blocked *old = bpf_map_lookup_elem(&blocked, &tid);
			if (old)
				recover(prev, old, &b);
			if (bpf_map_update_elem(&blocked, &tid, &b, BPF_ANY))
				count_lost();
		}
	}
	if (!is_target_task(next))
		return 0;
	__u32 tid = BPF_CORE_READ(next, pid);
	struct blocked *b = bpf_map_lookup_elem(&blocked, &tid);
	if (!b)
		return 0;
	if (!now)
		now = bpf_ktime_get_ns();
	__u64 start = b->ns;
	if (now - start >= min_duration_ns)
		send(next, b, now, true);
	bpf_map_delete_elem(&blocked, &tid);
	return 0;
}

/* the records Java reads, for their generated layout */
BTF_EXPORT(offcpu_record)
