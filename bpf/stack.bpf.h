/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stack capture at the moment of an event, for every probe (layout and maps: stack.h).
 *
 * The user stack is walked here rather than with bpf_get_stackid(BPF_F_USER_STACK) because a
 * frame of HotSpot's template interpreter must record its Method* (fp[-3]) and bcp (fp[-8]):
 * the interpreter's pc is the same for every Java method. The walk follows frame pointers,
 * which JIT code keeps only with -XX:+PreserveFramePointer (the agent says so at start); a
 * walker for code without them would replace walk_user_stack() and nothing else.
 */
#ifndef JFR_EBPF_STACK_BPF_H
#define JFR_EBPF_STACK_BPF_H

#include "common.bpf.h"
#include "stack.h"

/* [interp_start, interp_end): HotSpot's template interpreter, found by the agent (VMStructs). */
const volatile __u64 interp_start = 0;
const volatile __u64 interp_end = 0;

/* Shared by every probe: the agent loads the first and hands its maps to the others. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, USER_STACKS_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct user_stack);
} user_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, KERNEL_STACKS_MAX_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, KERNEL_STACK_MAX_DEPTH * sizeof(__u64));
} kernel_stacks SEC(".maps");

/*
 * Where a walk is built before it is hashed: one slot per kind of program, since a program
 * can be interrupted by another on the same CPU (the CPU sampler runs in interrupt context).
 */
#define STACK_SLOT_TASK 0  /* uprobes, syscall hooks */
#define STACK_SLOT_SCHED 1 /* sched_switch (interrupts off) */
#define STACK_SLOT_IRQ 2   /* perf_event sampling */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct user_stack);
} stack_scratch SEC(".maps");

/* A thread's stack spans at most this much: a saved frame pointer further up is garbage. */
#define MAX_FRAME_SPAN (16u << 20)

/*
 * libc is built without frame pointers, and some of its functions use rbp as a general register:
 * a thread blocked in the kernel from inside such a function (futex waits under Object.wait,
 * Thread.sleep, LockSupport.park) has no usable rbp. Its caller's frame is still on the stack,
 * and the libc function saved the caller's rbp there before reusing the register: the scan
 * looks at the words just above the stack pointer for one that links two frames (a saved frame
 * pointer whose frame holds a higher saved frame pointer and a return address) and resumes the
 * walk there. The frames between (inside libc) are skipped, not invented.
 */
#define SCAN_WORDS 64

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64[SCAN_WORDS]);
} scan_scratch SEC(".maps");

static __always_inline bool is_frame(__u64 fp, __u64 above)
{
	__u64 frame[2];
	if (fp <= above || fp - above > MAX_FRAME_SPAN || (fp & 7))
		return false;
	if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp))
		return false;
	return frame[0] > fp && frame[0] - fp <= MAX_FRAME_SPAN && !(frame[0] & 7) && frame[1] >= 4096;
}

/* The first word above sp that is a frame pointer of a chain (see above), or 0. */
static __always_inline __u64 scan_for_frame(__u64 sp, __u32 slot)
{
	__u64 *words = bpf_map_lookup_elem(&scan_scratch, &slot);
	if (!words || bpf_probe_read_user(words, SCAN_WORDS * sizeof(__u64), (void *)sp))
		return 0;
	for (int i = 0; i < SCAN_WORDS; i++) {
		__u64 w = words[i];
		if (w > sp && w - sp < 65536 && is_frame(w, sp)) {
			__u64 next = 0;
			bpf_probe_read_user(&next, sizeof(next), (void *)w);
			if (is_frame(next, w))
				return w;
		}
	}
	return 0;
}

static __always_inline __u64 mix(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0x100000001b3ull; /* FNV-1a prime, on words */
	return h ^ (h >> 29);
}

static __always_inline bool in_interpreter(__u64 pc)
{
	return pc >= interp_start && pc < interp_end;
}

/*
 * Walks the user stack from the registers the thread will return to user space with. With
 * at_entry (a uprobe on the first instruction of a function) the function has not pushed a
 * frame yet: its caller is the return address at the stack pointer, which the frame chain
 * would skip. Returns the key of the stack in user_stacks, or NO_USER_STACK.
 */
static __always_inline __u64 walk_user_stack(__u64 pc, __u64 sp, __u64 fp, bool at_entry, __u32 slot)
{
	struct user_stack *s = bpf_map_lookup_elem(&stack_scratch, &slot);
	if (!s || pc == 0)
		return NO_USER_STACK;
	__u64 h = 0xcbf29ce484222325ull;
	__u32 depth = 0;
	__u32 flags = 0;

	if (at_entry && depth < USER_STACK_MAX_DEPTH) {
		s->frames[0].pc = pc;
		s->frames[0].aux = 0;
		h = mix(h, pc);
		depth = 1;
		if (bpf_probe_read_user(&pc, sizeof(pc), (void *)sp) || pc == 0)
			goto done;
	}
	if (!at_entry && !in_interpreter(pc) && !is_frame(fp, sp > 8 ? sp - 8 : 0)) {
		__u64 found = scan_for_frame(sp, slot);
		if (found) {
			/* the innermost frame is kept; its frame pointer is the one found */
			fp = found;
		}
	}
	for (int i = 0; i < USER_STACK_MAX_DEPTH; i++) {
		if (depth >= USER_STACK_MAX_DEPTH) {
			flags |= USER_STACK_TRUNCATED;
			break;
		}
		struct user_frame *f = &s->frames[depth & (USER_STACK_MAX_DEPTH - 1)];
		f->pc = pc;
		f->aux = 0;
		if (in_interpreter(pc) && fp) {
			/* interpreter frame: Method* at fp[-3], bcp at fp[-8] */
			__u64 words[8];
			if (!bpf_probe_read_user(words, sizeof(words), (void *)(fp - 64)) && words[5]) {
				f->pc = words[5];
				f->aux = USER_FRAME_INTERPRETED | (words[0] & ~USER_FRAME_INTERPRETED);
			}
		}
		h = mix(h, f->pc);
		h = mix(h, f->aux);
		depth++;
		if (fp == 0 || (fp & 7))
			break;
		__u64 frame[2]; /* saved frame pointer, return address */
		if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp))
			break;
		if (frame[0] <= fp || frame[0] - fp > MAX_FRAME_SPAN || frame[1] == 0)
			break;
		fp = frame[0];
		pc = frame[1];
	}
done:
	s->depth = depth;
	s->flags = flags;
	h = mix(h, ((__u64)flags << 32) | depth);
	if (h == NO_USER_STACK)
		h = 1;
	if (!bpf_map_lookup_elem(&user_stacks, &h))
		bpf_map_update_elem(&user_stacks, &h, s, BPF_ANY);
	return h;
}

/* The user stack of the current task, from the registers saved at its entry into the kernel. */
static __always_inline __u64 current_user_stack(__u32 slot)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return NO_USER_STACK;
	return walk_user_stack(BPF_CORE_READ(regs, ip), BPF_CORE_READ(regs, sp), BPF_CORE_READ(regs, bp), false, slot);
}

/* The kernel stack at this point, or NO_STACK (in user mode, or the bucket is taken). */
static __always_inline __s32 current_kernel_stack(void *ctx)
{
	long id = bpf_get_stackid(ctx, &kernel_stacks, 0);
	return id < 0 ? NO_STACK : (__s32)id;
}

#endif
