/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel-version differences of the programs, in one place (as bcc's libbpf-tools keep
 * theirs): each is a field that moved or was renamed between kernels, read through CO-RE with
 * bpf_core_field_exists, so that one object loads on either side of the change.
 */
#ifndef JFR_EBPF_CORE_FIXES_BPF_H
#define JFR_EBPF_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/*
 * task_struct's scheduler state: `__state` (unsigned int) since 5.14 (commit 2f064a59a11f),
 * `state` (volatile long) before — and in distribution kernels older than that with BPF
 * backports (RHEL 8's 4.18). The ___x/___o suffixes are CO-RE "flavors": libbpf matches them
 * to the kernel's task_struct by name without the suffix.
 */
struct task_struct___x {
	unsigned int __state;
} __attribute__((preserve_access_index));

struct task_struct___o {
	volatile long state;
} __attribute__((preserve_access_index));

static __always_inline __u32 get_task_state(void *task)
{
	struct task_struct___x *t = task;
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return (__u32)BPF_CORE_READ((struct task_struct___o *)task, state);
}

/*
 * Whether a task registered restartable sequences: task_struct.rseq, the user address of its
 * struct rseq (CONFIG_RSEQ, Linux 4.18+), NULL when it did not. A kernel without the field has
 * no rseq_update tracepoint either (offcpu.bpf.c then never asks). Later kernels that keep the
 * registration elsewhere answer true: offcpu.bpf.c notices a thread that does not come back
 * through rseq_update by its registers.
 */
struct task_struct___rseq {
	struct rseq *rseq;
} __attribute__((preserve_access_index));

static __always_inline bool task_has_rseq(void *task)
{
	struct task_struct___rseq *t = task;
	if (bpf_core_field_exists(t->rseq))
		return t->rseq != NULL; /* a tp_btf task: a direct load */
	return true;
}

#endif
