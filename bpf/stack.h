/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stacks captured in the kernel at the moment of an event (stack.bpf.h), shared by every probe
 * through two maps the agent reads when it symbolizes (io.jfrebpf.agent.stack.StackMaps):
 *  - kernel_stacks: BPF_MAP_TYPE_STACK_TRACE, filled by bpf_get_stackid (the kernel deduplicates);
 *  - user_stacks: our own frame-pointer walk, keyed by a 64-bit hash of its frames, so a hot
 *    stack is stored once. For a frame in HotSpot's template interpreter the walk records the
 *    Method* and bytecode pointer of the frame instead of its pc: the pc says nothing about
 *    which Java method runs there.
 * Mirrored in Java by UserStack (checked by LayoutTest).
 */
#ifndef JFR_EBPF_STACK_H
#define JFR_EBPF_STACK_H

#include "common.h"

/* Frames of a user stack: deeper stacks are cut and marked USER_STACK_TRUNCATED. */
#define USER_STACK_MAX_DEPTH 128
/* Frames of a kernel stack (the kernel's perf_event_max_stack default). */
#define KERNEL_STACK_MAX_DEPTH 127
/* Distinct stacks kept in the kernel; the least recently used go first (the agent caches them). */
#define USER_STACKS_MAX_ENTRIES 4096
#define KERNEL_STACKS_MAX_ENTRIES 4096

/* user_stack.flags */
#define USER_STACK_TRUNCATED 1u  /* the walk stopped at USER_STACK_MAX_DEPTH: the stack goes on */
#define USER_STACK_RESUMED 2u    /* the native frames under the last Java frame were not found (the frame
                                    chain lost its way there): the innermost frame, then the Java frames */

/* user_frame.aux: set for an interpreted frame, whose pc field holds its Method* and aux its bcp */
#define USER_FRAME_INTERPRETED (1ull << 63)

struct user_frame {
	__u64 pc;   /* return address (pc of the innermost frame), or Method* of an interpreted frame */
	__u64 aux;  /* 0, or USER_FRAME_INTERPRETED | bcp */
};

struct user_stack {
	__u32 depth;  /* frames used */
	__u32 flags;  /* USER_STACK_TRUNCATED, USER_STACK_RESUMED */
	struct user_frame frames[USER_STACK_MAX_DEPTH];
};

_Static_assert(sizeof(struct user_frame) == 16, "mirrored in Java");
_Static_assert(sizeof(struct user_stack) == 8 + 16 * USER_STACK_MAX_DEPTH, "mirrored in Java");

#endif
