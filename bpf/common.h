/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every record sent to user space starts with, and the limits shared by all probes.
 * Fixed-width types only: this header is read by the BPF programs, by the host C compiler
 * (layout.c) and mirrored in Java (io.jfrebpf.agent.probe.EventHeader, checked by LayoutTest).
 */
#ifndef JFR_EBPF_COMMON_H
#define JFR_EBPF_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TASK_COMM_LEN 16

/* kernel_stack_id of a record without a kernel stack (user mode, or the kernel refused one) */
#define NO_STACK (-1)
/* user_stack of a record without a user stack */
#define NO_USER_STACK 0

struct event_header {
	__u64 timestamp_ns;   /* bpf_ktime_get_ns() when the event began: CLOCK_MONOTONIC, the JVM's JFR tick clock */
	__u64 duration_ns;    /* 0 for instant events */
	__u32 pid;            /* tgid: always ours */
	__u32 tid;            /* the OS thread the event happened on */
	__u64 user_stack;     /* key of the walked user stack in the user_stacks map (stack.h), or NO_USER_STACK */
	__s32 kernel_stack_id; /* id in the kernel_stacks map, or NO_STACK */
	__u32 _pad;
	char comm[TASK_COMM_LEN]; /* the thread's name at the event: HotSpot sets it from the Java name */
	__u64 java_thread_id; /* Thread.threadId() of the Java thread mounted on tid at the event: a virtual
	                         thread's while one is mounted, else the platform thread's own; 0 unknown (mounted.bpf.h) */
};

_Static_assert(sizeof(struct event_header) == 64, "event_header layout is mirrored in Java");

#endif
