/* SPDX-License-Identifier: Apache-2.0 */
/* Records of offcpu.bpf.c, mirrored in Java by OffCpuRecord. */
#ifndef JFR_EBPF_OFFCPU_H
#define JFR_EBPF_OFFCPU_H

#include "common.h"

/* One stretch of time a thread of ours spent off CPU, at least min_duration_ns long. */
struct offcpu_record {
	struct event_header header; /* stacks: where it blocked; duration: until it ran again */
	__u32 state;  /* the task state when it was switched out (TASK_* bits; 0 = preempted while runnable) */
	__u32 waker_tid; /* reserved: 0 */
};

_Static_assert(sizeof(struct offcpu_record) == 56 + 8, "mirrored in Java");

#endif
