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

/*
 * offcpu_record.state of a virtual thread's time unmounted from its carrier (parked on a lock, a
 * sleep, a queue, socket I/O through the poller): from HotSpot's freeze of its continuation to
 * its thaw, on whichever carrier mounts it again. No task state has this bit; header.tid is that
 * carrier, header.user_stack the virtual thread's stack where it parked, kernel_depth 0.
 */
#define OFFCPU_UNMOUNTED 0x80000000u

/*
 * HotSpot's freeze_result (continuationFreezeThaw.cpp, JDK 24+): why a virtual thread that
 * tried to unmount stayed on its carrier (pinned), blocking it for the wait.
 */
#define FREEZE_OK 0
#define FREEZE_OK_BOTTOM 1
#define FREEZE_PINNED_CS 2      /* a critical section (Continuation.pin: the JDK's own) */
#define FREEZE_PINNED_NATIVE 3  /* a native frame on its stack (JNI, an FFM upcall, a class initializer) */
#define FREEZE_PINNED_MONITOR 4 /* a monitor held where HotSpot cannot unmount with it */
#define FREEZE_EXCEPTION 5
#define FREEZE_NOT_MOUNTED 6
#define FREEZE_UNSUPPORTED 7

/* A virtual thread that tried to unmount and could not: where (header.user_stack) and why. */
struct pinned_record {
	struct event_header header; /* instant: the failed freeze; java_thread_id the virtual thread */
	__u32 reason;               /* FREEZE_* */
	__u32 _pad;
};

_Static_assert(sizeof(struct pinned_record) == 64 + 8, "mirrored in Java");

#endif
