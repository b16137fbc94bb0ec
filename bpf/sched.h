/* SPDX-License-Identifier: Apache-2.0 */
/* Records of sched.bpf.c, mirrored in Java by RunQueueRecord (checked by LayoutTest). */
#ifndef JFR_EBPF_SCHED_H
#define JFR_EBPF_SCHED_H

#include "common.h"

/* One wait of a thread of ours in the run queue: runnable, not running. */
struct runq_record {
	struct event_header header; /* start: when it became runnable; duration: until it ran; user stack: where it was then */
	__u32 cpu;                  /* the CPU it then ran on */
	__u32 preempted;            /* 1: taken off the CPU while runnable (preempted, throttled, yielded); 0: woken up */
};

_Static_assert(sizeof(struct runq_record) == 64 + 8, "mirrored in Java");

#endif
