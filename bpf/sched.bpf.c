// SPDX-License-Identifier: Apache-2.0
/*
 * sched: run-queue latency of our threads — the time from becoming runnable (woken up, or taken
 * off a CPU while still runnable: preempted, or throttled by the cgroup's CPU quota) until they
 * run again — at or above min_latency_ns, with the user stack where the thread was when it
 * stopped running. The stack is walked at every switch-out of our threads (user frames only,
 * ~1 us; kernel stacks are the off-CPU probe's): when it leaves the CPU, nobody knows yet how
 * long it will wait.
 *
 * A thread whose coming back the tracepoint did not show (sched_gap.bpf.h) is found leaving with
 * its wait still open: the wait is sent then, ending when the thread came back. (A thread woken
 * before it got to sleep is found so as well, having waited for nothing: under the threshold.)
 */
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "stack.bpf.h"
#include "sched.h"
#include "sched_gap.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_latency_ns = 1000000;

struct runnable {
	__u64 ns;
	__u64 user_stack;
	__u64 runtime; /* se.sum_exec_runtime then */
	__u64 started; /* task_started() */
	__u64 java_thread_id; /* mounted when it stopped (mounted.bpf.h) */
	__u32 preempted;
	__u32 _pad;
};

/* Where a sleeping thread stopped, and which Java thread was mounted on it then. */
struct stopped {
	__u64 user_stack;
	__u64 java_thread_id;
};

/* Threads of ours waiting to run, since when. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct runnable);
} runq SEC(".maps");

/* Where each sleeping thread of ours stopped: its stack when it is woken up. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct stopped);
} slept_at SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} events SEC(".maps");

static __always_inline void woken(struct task_struct *p)
{
	if (!is_target_task(p))
		return;
	__u32 tid = BPF_CORE_READ(p, pid);
	struct stopped *stack = bpf_map_lookup_elem(&slept_at, &tid);
	struct runnable r = {
		.ns = bpf_ktime_get_ns(),
		.user_stack = stack ? stack->user_stack : NO_USER_STACK,
		.java_thread_id = stack ? stack->java_thread_id : 0,
		.runtime = task_runtime(p),
		.started = task_started(p),
	};
	bpf_map_update_elem(&runq, &tid, &r, BPF_ANY);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	woken(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	woken(p);
	return 0;
}

static __always_inline void send(struct task_struct *t, const struct runnable *w, __u64 end)
{
	struct runq_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return;
	}
	fill_task_header(&r->header, t, w->ns, end, w->user_stack, w->java_thread_id);
	r->cpu = bpf_get_smp_processor_id();
	r->preempted = w->preempted;
	bpf_ringbuf_submit(r, ringbuf_wakeup_flags(&events));
}

/* prev leaves while its wait is still open: it came back unseen, on this CPU (it has not left since). */
static __always_inline void recover(struct task_struct *prev, __u32 tid, const struct runnable *now)
{
	struct runnable *w = bpf_map_lookup_elem(&runq, &tid);
	if (!w || w->started != now->started)
		return;
	__u64 back = came_back_at(now->ns, now->runtime, w->ns, w->runtime);
	if (back && back - w->ns >= min_latency_ns) {
		send(prev, w, back);
		count_recovered();
	}
	bpf_map_delete_elem(&runq, &tid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = 0;
	if (is_target_task(prev)) {
		/* prev is still the current task: its user registers are the ones to walk */
		now = bpf_ktime_get_ns();
		__u32 tid = BPF_CORE_READ(prev, pid);
		/* what a wait beginning now would be, if prev stays runnable */
		struct runnable r = {
			.ns = now,
			.user_stack = current_user_stack(STACK_SLOT_SCHED),
			.runtime = task_runtime(prev),
			.started = task_started(prev),
			.java_thread_id = mounted_thread_id(),
			.preempted = 1,
		};
		recover(prev, tid, &r);
		if (preempt || get_task_state(prev) == 0)
			bpf_map_update_elem(&runq, &tid, &r, BPF_ANY);
		else {
			struct stopped s = {.user_stack = r.user_stack, .java_thread_id = r.java_thread_id};
			bpf_map_update_elem(&slept_at, &tid, &s, BPF_ANY);
		}
	}
	if (!is_target_task(next))
		return 0;
	__u32 tid = BPF_CORE_READ(next, pid);
	struct runnable *w = bpf_map_lookup_elem(&runq, &tid);
	if (!w)
		return 0;
	if (!now)
		now = bpf_ktime_get_ns();
	__u64 start = w->ns;
	if (now > start && now - start >= min_latency_ns)
		send(next, w, now);
	bpf_map_delete_elem(&runq, &tid);
	return 0;
}

/* the records Java reads, for their generated layout */
BTF_EXPORT(runq_record)
