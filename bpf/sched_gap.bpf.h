/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Switches the sched_switch tracepoint does not show. On our VM the tracepoint (ftrace's own
 * sched_switch event as well) now and then does not fire for a switch: every switch away from a
 * thread of the VM's init process, some away from the idle task. The thread switched in then
 * comes back unseen, and the next thing a program sees of it is the thread leaving again.
 *
 * When it came back still follows: the CPU time the thread has used since it was last seen
 * (se.sum_exec_runtime, updated for prev before the tracepoint fires) is how long it has been
 * running, so it came back that long before now. offcpu.bpf.c and sched.bpf.c recover their
 * stretches that way and count them in `recovered`, which the agent logs.
 */
#ifndef JFR_EBPF_SCHED_GAP_BPF_H
#define JFR_EBPF_SCHED_GAP_BPF_H

#include "common.bpf.h"

PERCPU_COUNTER(recovered);

static __always_inline void count_recovered(void)
{
	count_in(&recovered);
}

static __always_inline __u64 task_runtime(struct task_struct *t)
{
	return t->se.sum_exec_runtime; /* a tp_btf task: a direct load */
}

/* When the thread started: tells it from an earlier thread that had the same tid. */
static __always_inline __u64 task_started(struct task_struct *t)
{
	return t->start_time;
}

/*
 * When a thread leaving now, with `runtime` ns of CPU time, came back to a CPU, if it had
 * `runtime_then` when last seen at `since`; 0 when the two clocks disagree.
 */
static __always_inline __u64 came_back_at(__u64 now, __u64 runtime, __u64 since, __u64 runtime_then)
{
	if (runtime < runtime_then)
		return 0;
	__u64 ran = runtime - runtime_then;
	if (now <= since || now - since <= ran)
		return 0;
	return now - ran;
}

#endif
