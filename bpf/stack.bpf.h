/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stack capture at the moment of an event, for every probe (layout and maps: stack.h).
 *
 * The user stack is walked here rather than with bpf_get_stackid(BPF_F_USER_STACK) because a
 * frame of HotSpot's template interpreter must record its Method* (fp[-3]) and bcp (fp[-8]):
 * the interpreter's pc is the same for every Java method. The walk follows frame pointers,
 * which JIT code keeps only with -XX:+PreserveFramePointer (the agent says so at start); a
 * walker for code without them would replace walk_user_stack() and nothing else.
 *
 * Native code without frame pointers (libc) can send a frame-pointer walk into stale frames: old
 * saved frame pointers lie in unwritten slots of live frames. A Java thread in native code, in
 * the VM or blocked has told HotSpot where its last Java frame is (JavaThread::_anchor: the
 * last Java sp, fp and pc), so below that frame only native frames can be: the walk checks the
 * native part against it and, when the chain does not lead exactly there, drops it and resumes
 * at the anchor. The JavaThread is found like Thread::current() finds it: libjvm's thread-local
 * Thread::_thr_current, through the thread's TLS block (fs base -> glibc's dtv -> libjvm's block).
 *
 * Verification is a cost every JVM pays at start (~4 ms of the kernel's time per 1,000
 * instructions it checks, here): the checks with many branches on unknown values (is_frame,
 * after_call, chain_at, native_resumes) are global functions, which the verifier checks once,
 * on their own, instead of in every state of the bpf_loop that calls them. That took the CPU
 * sampler from 50,000 checked instructions to 6,700, and the default probes from 312,000 to 65,000.
 */
#ifndef JFR_EBPF_STACK_BPF_H
#define JFR_EBPF_STACK_BPF_H

#include "common.bpf.h"
#include "stack.h"

/* [interp_start, interp_end): HotSpot's template interpreter, found by the agent (VMStructs). */
const volatile __u64 interp_start = 0;
const volatile __u64 interp_end = 0;
/* [code_low, code_high): HotSpot's code cache (compiled Java code, stubs, the interpreter). */
const volatile __u64 code_low = 0;
const volatile __u64 code_high = 0;
/*
 * Where the current JavaThread is (io.jfrebpf.agent.jvm.FrameAnchors): libjvm's TLS module id
 * (0: unknown, no anchor is read), the offset of Thread::_thr_current in its TLS block, and
 * offsets in JavaThread (VMStructs): _anchor (_last_Java_sp, _last_Java_pc, _last_Java_fp
 * follow each other there), _thread_state, _stack_base, all inside the window of
 * jt_window_size bytes at jt_window_offset, read at once. anchor_states: a bit per thread
 * state (1 << state) in which the anchor is set: native, VM, blocked and their transitions.
 */
const volatile __u64 jt_tls_module = 0;
const volatile __u64 jt_tls_offset = 0;
const volatile __u64 jt_anchor_offset = 0;
const volatile __u64 jt_state_offset = 0;
const volatile __u64 jt_stack_base_offset = 0;
const volatile __u64 jt_anchor_states = 0;
const volatile __u64 jt_window_offset = 0;
const volatile __u64 jt_window_size = 0;

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

__attribute__((noinline)) int is_frame(__u64 fp, __u64 above)
{
	__u64 frame[2];
	if (fp <= above || fp - above > MAX_FRAME_SPAN || (fp & 7))
		return false;
	if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp))
		return false;
	return frame[0] > fp && frame[0] - fp <= MAX_FRAME_SPAN && !(frame[0] & 7) && frame[1] >= 4096;
}

static __always_inline bool in_interpreter(__u64 pc)
{
	return pc >= interp_start && pc < interp_end;
}

static __always_inline bool in_code_cache(__u64 pc)
{
	return pc >= code_low && pc < code_high;
}

/* The frame anchor of a Java thread stopped outside Java code: its last Java frame. */
struct java_anchor {
	__u64 sp; /* 0: none (not a Java thread, in Java code, or unknown) */
	__u64 pc;
	__u64 fp; /* the last Java frame's frame pointer, when known (see read_java_anchor) */
};

/* A compiled frame (a native method's wrapper, a runtime stub) keeps its frame record this close above its sp. */
#define ANCHOR_RECORD_SPAN 4096

static __always_inline void read_java_anchor(__u64 sp, struct java_anchor *a, __u32 slot)
{
	__u64 fsbase, dtv, block, jt, base;
	__u32 state;
	a->sp = 0;
	if (!jt_tls_module || !jt_window_size || jt_window_size > SCAN_WORDS * sizeof(__u64))
		return;
	struct task_struct *task = bpf_get_current_task_btf();
	fsbase = BPF_CORE_READ(task, thread.fsbase);
	/* glibc's tcbhead_t: the dtv pointer is its second word; a dtv entry is {block, to_free} */
	if (!fsbase || bpf_probe_read_user(&dtv, sizeof(dtv), (void *)(fsbase + 8)) || !dtv)
		return;
	if (bpf_probe_read_user(&block, sizeof(block), (void *)(dtv + 16 * jt_tls_module)) || !block || block == ~0ull)
		return;
	if (bpf_probe_read_user(&jt, sizeof(jt), (void *)(block + jt_tls_offset)) || !jt || (jt & 7))
		return;
	/* the JavaThread's fields in one read, into the scan's scratch (free until the scan) */
	char *window = bpf_map_lookup_elem(&scan_scratch, &slot);
	if (!window || bpf_probe_read_user(window, jt_window_size, (void *)(jt + jt_window_offset)))
		return;
	__u64 at_state = jt_state_offset - jt_window_offset;
	__u64 at_base = jt_stack_base_offset - jt_window_offset;
	__u64 at_anchor = jt_anchor_offset - jt_window_offset;
	if (at_state > SCAN_WORDS * 8 - 4 || at_base > SCAN_WORDS * 8 - 8 || at_anchor > SCAN_WORDS * 8 - sizeof(*a))
		return;
	state = *(__u32 *)(window + at_state);
	if (state >= 64 || !(jt_anchor_states & (1ull << state)))
		return;
	base = *(__u64 *)(window + at_base);
	__builtin_memcpy(a, window + at_anchor, sizeof(*a));
	/* the anchor is believed only inside this thread's stack, above the registers we walk from */
	if (a->sp <= sp || a->sp >= base || base - sp > MAX_FRAME_SPAN || (a->sp & 7))
		a->sp = 0;
	if (a->sp && !a->pc)
		bpf_probe_read_user(&a->pc, sizeof(a->pc), (void *)(a->sp - 8));
	if (!a->sp || !a->pc) {
		a->sp = 0;
		return;
	}
	if (in_interpreter(a->pc))
		return; /* the interpreter sets the anchor's fp */
	/*
	 * Compiled code (a native method's wrapper, a downcall or runtime stub) does not: it calls
	 * with its sp at the anchor's, so the callee's return address is just below it and, when the
	 * callee keeps frame pointers, the caller's fp pushed below that. Believed only if it leads to
	 * a frame record whose return address is Java code.
	 */
	__u64 record[2] = {}, fp = 0;
	a->fp = 0;
	if (bpf_probe_read_user(&fp, sizeof(fp), (void *)(a->sp - 16)) || fp <= a->sp || fp - a->sp > ANCHOR_RECORD_SPAN ||
	    (fp & 7) || bpf_probe_read_user(record, sizeof(record), (void *)fp))
		return;
	if (record[0] > fp && record[0] - fp <= MAX_FRAME_SPAN && in_code_cache(record[1]))
		a->fp = fp;
}

/*
 * Whether a frame record read below the last Java frame is the native frame whose caller is that
 * Java frame: its saved frame pointer is the interpreter's (the interpreter gives it in the
 * anchor) or lies just above the compiled frame's sp, and its return address is Java code.
 */
static __always_inline bool enters_java(const struct java_anchor *a, __u64 saved_fp, __u64 ret)
{
	if (!in_code_cache(ret) || saved_fp <= a->sp)
		return false;
	return a->fp ? saved_fp == a->fp : saved_fp - a->sp <= ANCHOR_RECORD_SPAN;
}

/* A look at the words above a stack pointer, one bpf_loop step a word (scan_above). */
struct scan {
	__u64 sp;
	__u64 found;
	struct java_anchor a;
	__u32 slot;
};

/* The words above sp, read into the scratch of this slot, then looked at by step until it finds one. */
static __always_inline __u64 scan_above(__u64 sp, __u32 slot, const struct java_anchor *a, long (*step)(__u64, void *))
{
	__u64 *words = bpf_map_lookup_elem(&scan_scratch, &slot);
	if (!words || bpf_probe_read_user(words, SCAN_WORDS * sizeof(__u64), (void *)sp))
		return 0;
	struct scan c = {.sp = sp, .slot = slot, .a = *a};
	bpf_loop(SCAN_WORDS - 1, step, &c, 0);
	return c.found;
}

/* The i-th word above sp and the next, from the scratch scan_above filled; false if it is gone. */
static __always_inline bool scan_words(struct scan *c, __u64 i, __u64 *w, __u64 *next)
{
	__u32 slot = c->slot;
	__u64 *words = bpf_map_lookup_elem(&scan_scratch, &slot);
	if (!words)
		return false;
	*w = words[i & (SCAN_WORDS - 1)];
	*next = words[(i + 1) & (SCAN_WORDS - 1)];
	return true;
}

/* anchor_record's step: a record is a saved fp (above it) followed by a return into Java code. */
static long record_step(__u64 i, void *ctx)
{
	struct scan *c = ctx;
	__u64 w, ret;
	if (!scan_words(c, i, &w, &ret))
		return 1;
	__u64 at = c->sp + 8 * i;
	if (w > at && w - at <= MAX_FRAME_SPAN && !(w & 7) && in_code_cache(ret)) {
		c->found = at;
		return 1;
	}
	return 0;
}

/* The frame record of a compiled last Java frame: the first (saved fp, return into Java code) above its sp. */
static __always_inline __u64 anchor_record(const struct java_anchor *a, __u32 slot)
{
	return scan_above(a->sp, slot, a, record_step);
}

/*
 * Whether the bytes before ret end with a call instruction, as they must before a return
 * address: call rel32 (e8), or an indirect call (ff /2) through a register, memory, a
 * displacement or rip. A word of data (a heap pointer) passes by chance about once in fifty.
 */
__attribute__((noinline)) int after_call(__u64 ret)
{
	__u8 c[8];
	if (ret < 4096 || bpf_probe_read_user(c, sizeof(c), (void *)(ret - 8)))
		return false;
	if (c[3] == 0xe8)
		return true;                                                       /* e8 rel32 */
	if (c[6] == 0xff && (c[7] & 0x38) == 0x10 && ((c[7] & 0xc0) == 0xc0 || (c[7] & 0xc0) == 0))
		return true;                                                       /* ff d0+r, ff 10+r */
	if (c[5] == 0xff && (c[6] & 0x38) == 0x10 && (c[6] & 0xc0) == 0x40)
		return true;                                                       /* ff 50+r d8 */
	if (c[4] == 0xff && (c[5] & 0x38) == 0x10 && (c[5] & 0xc7) == 0x44)
		return true;                                                       /* ff 54 sib d8 */
	if (c[2] == 0xff && (c[3] & 0x38) == 0x10 && ((c[3] & 0xc7) == 0x05 || (c[3] & 0xc0) == 0x80))
		return true;                                                       /* ff 15 rip32, ff 90+r d32 */
	return c[1] == 0xff && (c[2] & 0x38) == 0x10 && (c[2] & 0xc7) == 0x84;  /* ff 94 sib d32 */
}

/*
 * Whether w, a word above sp, is the frame pointer of a chain (scan_for_frame): a global
 * function, so that the verifier checks its branches once, not in every state of the loop.
 */
__attribute__((noinline)) int chain_at(__u64 sp, __u64 w, __u64 anchor_sp, __u64 anchor_fp)
{
	if (w <= sp || w - sp >= 65536 || !is_frame(w, sp))
		return 0;
	__u64 next[2] = {};
	bpf_probe_read_user(next, sizeof(next), (void *)w);
	if (!is_frame(next[0], w))
		return 0;
	/* a found record's return address must follow a call (JIT code is trusted: its bounds are known) */
	if (!in_code_cache(next[1]) && !after_call(next[1]))
		return 0;
	/* below the last Java frame, a chain that runs into Java code (or enters it off its record) is stale */
	if (anchor_sp && w < anchor_sp) {
		if (next[0] >= anchor_sp) {
			struct java_anchor a = {.sp = anchor_sp, .fp = anchor_fp};
			if (!enters_java(&a, next[0], next[1]))
				return 0;
		} else if (in_code_cache(next[1])) {
			return 0;
		}
	}
	return 1;
}

/* Looks at the i-th word above sp (scan_for_frame); 1 when it is the one. */
static long scan_step(__u64 i, void *ctx)
{
	struct scan *c = ctx;
	__u64 w, unused;
	if (!scan_words(c, i, &w, &unused))
		return 1;
	if (!chain_at(c->sp, w, c->a.sp, c->a.fp))
		return 0;
	c->found = w;
	return 1;
}

/*
 * The first word above sp that is a frame pointer of a chain (see above), or 0. Below the last
 * Java frame of a thread (anchor), a chain that runs into Java code there is stale and skipped.
 */
static __always_inline __u64 scan_for_frame(__u64 sp, __u32 slot, const struct java_anchor *a)
{
	return scan_above(sp, slot, a, scan_step);
}

static __always_inline __u64 mix(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0x100000001b3ull; /* FNV-1a prime, on words */
	return h ^ (h >> 29);
}

/*
 * Walks the user stack from the registers the thread will return to user space with. With
 * at_entry (a uprobe on the first instruction of a function) the function has not pushed a
 * frame yet: its caller is the return address at the stack pointer, which the frame chain
 * would skip. Returns the key of the stack in user_stacks, or NO_USER_STACK.
 *
 * For a Java thread outside Java code the frames below its last Java frame (anchor) must be
 * native (checked unless at_entry, whose chain starts whole): a chain that meets Java code there, or enters the Java frame anywhere but at its
 * record, is stale. Its frames are dropped, the innermost kept, and the walk resumes at the
 * anchor (USER_STACK_RESUMED); so does a chain that simply ends there, keeping its frames.
 */
/*
 * The walk between two frames: what walk_step (a bpf_loop callback) works on. The frame count
 * lives in the stack being built (user_stack.depth), not here: read back from a map it is not a
 * known number to the verifier, so the callback's states converge after a step or two instead of
 * being verified once per depth.
 */
struct walk {
	__u64 pc;     /* of the frame to record next */
	__u64 fp;     /* its frame pointer */
	__u64 h;      /* hash of the frames recorded */
	__u64 h_keep; /* ... of the first keep frames */
	struct java_anchor a;
	__u32 flags;
	__u32 keep; /* frames kept when a stale native part is dropped */
	__u32 slot;
	bool native; /* below the last Java frame (a.sp != 0 and not yet past it) */
};

/*
 * Below the last Java frame (w->native): whether the chain from fp (saved_fp, ret: its record;
 * linked: it has one) must resume at the anchor instead — it ends, meets Java code, or enters
 * the Java frame off its record (stale: its frames after the first keep are dropped). Then it
 * moves w there and returns 1. A global function, so that the verifier checks it once.
 */
__attribute__((noinline)) int native_resumes(struct walk *w, struct user_stack *s, __u64 fp, __u64 saved_fp, __u64 ret)
{
	if (!w || !s)
		return 0;
	bool linked = saved_fp != 0;
	bool resume = fp >= w->a.sp || !linked, stale = false;
	if (!resume && saved_fp >= w->a.sp) {
		if (enters_java(&w->a, saved_fp, ret)) {
			w->native = false; /* the chain reaches the last Java frame: go on */
			return 0;
		}
		resume = stale = true;
	} else if (!resume && in_code_cache(ret)) {
		resume = stale = true; /* Java code below the last Java frame */
	}
	if (!resume)
		return 0;
	if (stale) {
		w->flags |= USER_STACK_RESUMED;
		s->depth = w->keep;
		w->h = w->h_keep;
	}
	w->native = false;
	w->pc = w->a.pc;
	w->fp = w->a.fp ? w->a.fp : anchor_record(&w->a, w->slot);
	return 1;
}

/* Records one frame and moves to its caller; 1 ends the walk. */
static long walk_step(__u64 i, void *ctx)
{
	struct walk *w = ctx;
	__u32 slot = w->slot;
	struct user_stack *s = bpf_map_lookup_elem(&stack_scratch, &slot);
	if (!s)
		return 1;
	__u32 depth = s->depth;
	if (depth >= USER_STACK_MAX_DEPTH) {
		w->flags |= USER_STACK_TRUNCATED;
		return 1;
	}
	__u64 pc = w->pc, fp = w->fp;
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
	w->h = mix(mix(w->h, f->pc), f->aux);
	s->depth = ++depth;
	if (depth == w->keep)
		w->h_keep = w->h;

	__u64 frame[2] = {}; /* saved frame pointer, return address */
	bool linked = fp && !(fp & 7) && !bpf_probe_read_user(frame, sizeof(frame), (void *)fp) && frame[0] > fp &&
		      frame[0] - fp <= MAX_FRAME_SPAN && frame[1] != 0;
	if (w->native && native_resumes(w, s, fp, linked ? frame[0] : 0, frame[1]))
		return 0;
	if (!linked)
		return 1;
	w->fp = frame[0];
	w->pc = frame[1];
	return 0;
}

static __always_inline __u64 walk_user_stack(__u64 pc, __u64 sp, __u64 fp, bool at_entry, __u32 slot)
{
	struct user_stack *s = bpf_map_lookup_elem(&stack_scratch, &slot);
	if (!s || pc == 0)
		return NO_USER_STACK;
	struct walk w = {.h = 0xcbf29ce484222325ull, .slot = slot};
	/* at a function's entry the frame pointer is still the caller's: the chain is whole (and
	 * the anchor's reads, ~0.7 us, are saved); elsewhere libc may have reused the register */
	if (!at_entry)
		read_java_anchor(sp, &w.a, slot);
	w.native = w.a.sp != 0;
	s->depth = 0;

	if (at_entry) {
		s->frames[0].pc = pc;
		s->frames[0].aux = 0;
		w.h = mix(mix(w.h, pc), 0);
		s->depth = 1;
		if (bpf_probe_read_user(&pc, sizeof(pc), (void *)sp) || pc == 0)
			goto done;
	}
	if (!at_entry && !in_interpreter(pc) && !is_frame(fp, sp > 8 ? sp - 8 : 0)) {
		__u64 found = scan_for_frame(sp, slot, &w.a);
		if (found) {
			/* the innermost frame is kept; its frame pointer is the one found */
			fp = found;
		}
	}
	w.pc = pc;
	w.fp = fp;
	/* where the thread is (and at a function's entry its caller) */
	w.keep = at_entry ? 2 : 1;
	w.h_keep = w.h;
	bpf_loop(USER_STACK_MAX_DEPTH + 1, walk_step, &w, 0);
done:
	s->flags = w.flags;
	__u64 h = mix(w.h, ((__u64)w.flags << 32) | s->depth);
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
