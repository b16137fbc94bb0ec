/* SPDX-License-Identifier: Apache-2.0 */
/* Records of offcpu.bpf.c, mirrored in Java by OffCpuRecord. */
#ifndef JFR_EBPF_OFFCPU_H
#define JFR_EBPF_OFFCPU_H

#include "common.h"

/* Kernel frames carried in the record: a blocked thread's kernel stack is some 15-25 deep. */
#define OFFCPU_KERNEL_MAX 48

/*
 * One stretch of time a thread of ours spent off CPU, at least min_duration_ns long. The user
 * stack (header.user_stack) is walked when the thread leaves the CPU; its kernel stack, where it
 * blocked, is read when it comes back (the blocked thread's stack is intact until then), and only
 * for the stretches long enough to report: header.kernel_stack_id is NO_STACK, the frames are here.
 */
struct offcpu_record {
	struct event_header header; /* duration: until it ran again */
	__u32 state;        /* the task state when it was switched out (TASK_* bits; 0 = preempted while runnable) */
	__u32 kernel_depth; /* frames in kernel_ips */
	__u64 kernel_ips[OFFCPU_KERNEL_MAX]; /* innermost first */
};

_Static_assert(sizeof(struct offcpu_record) == 64 + 8 + 8 * OFFCPU_KERNEL_MAX, "mirrored in Java");

#endif
