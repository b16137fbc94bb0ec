// SPDX-License-Identifier: Apache-2.0
/*
 * task_work_check: whether this kernel's verifier lets a sched_switch program schedule a task
 * work, as offcpu.bpf.c does to walk user stacks on the thread's return to user mode. Loaded,
 * never attached, by the agent before the off-CPU probe: the same call in a few instructions,
 * so that a kernel that refuses it (6.18.44: "sleepable callback in a program that is not
 * sleepable") costs a small program's verification instead of the whole probe's, done twice.
 * Not weak: a kernel without the kfunc fails the load too (walk at switch-out there).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_task_work_schedule_resume_impl(struct task_struct *task, struct bpf_task_work *tw, void *map__map,
					      int (*callback)(struct bpf_map *map, void *key, void *value),
					      void *aux__prog) __ksym;

/* as offcpu.bpf.c's resuming: a task work in an LRU hash map's value */
struct check_work {
	__u64 pending;
	struct bpf_task_work work;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct check_work);
} check_works SEC(".maps");

static int checked(struct bpf_map *map, void *key, void *value)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(task_work_check, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 key = 0;
	struct check_work *w = bpf_map_lookup_elem(&check_works, &key);
	if (w)
		bpf_task_work_schedule_resume_impl(next, &w->work, &check_works, checked, NULL);
	return 0;
}
