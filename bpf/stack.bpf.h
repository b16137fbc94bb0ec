/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stack capture at the moment of an event, for every probe (layout and maps: stack.h).
 *
 * The user stack is walked here rather than with bpf_get_stackid(BPF_F_USER_STACK): HotSpot's
 * frames need HotSpot's knowledge, which the agent hands over in .rodata (hotspot, from
 * VMStructs). A frame is unwound by what its pc runs:
 *  - JIT-compiled code and HotSpot's stubs (a pc in the code cache): the code blob that holds the
 *    pc is found through its code heap's segment map, read live from the JVM's memory (blobs come
 *    and go as code is compiled and freed), and the frame is stepped by the blob's frame size
 *    (return address and saved rbp at the top of the frame), as HotSpot steps it itself: no
 *    frame pointer needed, so whole stacks without -XX:+PreserveFramePointer. The innermost frame
 *    may be caught in its prologue or epilogue, where the frame is partly built: the few
 *    instruction shapes HotSpot emits there are recognised (entry_slot, exit_slot, stub_slot).
 *    Stubs without a frame size (StubRoutines) keep rbp as their frame pointer. A compiled
 *    frame is recorded with its nmethod's compile id (USER_FRAME_NMETHOD): the agent names it
 *    later, when the code may have been freed and its space taken by another nmethod.
 *  - HotSpot's template interpreter: its frame pointer, with the Method* at fp[-3], the bcp at
 *    fp[-8] (r13 in the innermost frame) and the sender's sp at fp[-1]: the pc says nothing about
 *    which Java method runs, so the walk records the Method* and bcp instead.
 *  - native code: frame pointers (libjvm keeps them), checked against HotSpot's frame anchor.
 * A frame of Java code whose caller does not check out (no blob, a return address outside the
 * code, a frame pointer off the stack) ends the walk, marked USER_STACK_INCOMPLETE: a frame is
 * never guessed. So does any step whose caller does not lie above the frame (move_to), and a
 * native frame whose frame pointer lies below its sp: such records are stale, and following
 * them would repeat frames.
 *
 * A signal handler's frames end in the signal trampoline (sigreturn_pc): the walk goes on from the
 * registers the kernel saved in the signal frame, at a pc that is not a return address (the frame
 * is marked USER_FRAME_INTERRUPTED for the symbolizer).
 *
 * Native code without frame pointers (libc) can send a frame-pointer walk into stale frames: old
 * saved frame pointers lie in unwritten slots of live frames. A Java thread in native code, in
 * the VM or blocked has told HotSpot where its last Java frame is (JavaThread::_anchor: the
 * last Java sp, fp and pc), so below that frame only native frames can be: the walk checks the
 * native part against it and, when the chain does not lead exactly there, drops it and resumes
 * at the anchor. So has a thread that compiled code sent into the VM through a runtime stub
 * while it stays _thread_in_Java (an uncommon trap, a deoptimization: the stub sets the anchor
 * and calls Deoptimization::uncommon_trap or a JRT_BLOCK_ENTRY such as fetch_unroll_info, which
 * log with vsnprintf in libc): in Java code the anchor is clear, so one that is set is believed. The JavaThread is found like Thread::current() finds it: libjvm's thread-local
 * Thread::_thr_current, through the thread's TLS block (fs base -> glibc's dtv -> libjvm's block).
 *
 * A mounted virtual thread runs on its carrier's stack above Continuation.enterSpecial; when it
 * was mounted lazily, its outer frames are still in its stack chunk on the heap and its last
 * thawed frame returns into the continuation's return barrier: the walk goes on in the chunks
 * (stack_chunk.bpf.h, chunk_frame), then at enterSpecial's frame (JavaThread::_cont_entry), as
 * HotSpot's own walk does; chunks it cannot read leave a marked gap (USER_STACK_CONTINUATION).
 *
 * Verification is a cost every JVM pays at start (~4 ms of the kernel's time per 1,000
 * instructions it checks, here): the checks with many branches on unknown values (is_frame,
 * after_call, chain_at, native_resumes, find_blob, unwind_*, the slot decoders) are global
 * functions, which the verifier checks once, on their own, instead of in every state of the
 * bpf_loop that calls them.
 */
#ifndef JFR_EBPF_STACK_BPF_H
#define JFR_EBPF_STACK_BPF_H

#include "common.bpf.h"
#include "stack.h"
#include "stack_chunk.bpf.h"

/* [interp_start, interp_end): HotSpot's template interpreter, found by the agent (VMStructs). */
const volatile __u64 interp_start = 0;
const volatile __u64 interp_end = 0;
/* [code_low, code_high): HotSpot's code cache (compiled Java code, stubs, the interpreter). */
const volatile __u64 code_low = 0;
const volatile __u64 code_high = 0;
/* The code heaps and blob layout (io.jfrebpf.agent.jvm.HotSpotFrames); heap_count 0: unknown. */
const volatile struct hotspot_layout hotspot = {};
/*
 * Where a signal handler returns (glibc's __restore_rt, io.jfrebpf.agent.os.SignalReturn): the
 * frame above it is the signal frame, whose saved registers say where the thread was interrupted
 * (HotSpot suspends threads with signals for JFR's sampler and handshakes; profilers sample with
 * them). 0: unknown.
 */
const volatile __u64 sigreturn_pc = 0;
/*
 * The entries of the stubs in HotSpot's stub buffers, sorted (io.jfrebpf.agent.jvm.StubNames): a
 * stub buffer holds many stubs, and whether the one at a pc keeps a frame pointer is seen at its
 * first instructions (push rbp; mov rbp, rsp).
 */
const volatile __u64 stub_entries[STUB_ENTRIES_MAX] = {};
const volatile __u32 stub_entry_count = 0;
/*
 * Where the current JavaThread is (io.jfrebpf.agent.jvm.FrameAnchors): libjvm's TLS module id
 * (0: unknown, no anchor is read), the offset of Thread::_thr_current in its TLS block, and
 * offsets in JavaThread (VMStructs): _anchor (_last_Java_sp, _last_Java_pc, _last_Java_fp
 * follow each other there), _thread_state, _stack_base, all inside the window of
 * jt_window_size bytes at jt_window_offset, read at once. anchor_states: a bit per thread
 * state (1 << state) in which the anchor, when set (a last Java sp), is believed: native, VM,
 * blocked and their transitions, and Java (a runtime stub's call into the VM).
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

/* Shared too: one element, rewritten by the agent when the process maps code (bpf/stack.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_ranges);
} exec_ranges SEC(".maps");

/*
 * Where a walk is built before it is hashed: one slot per kind of program, since a program
 * can be interrupted by another on the same CPU (the CPU sampler runs in interrupt context).
 */
#define STACK_SLOT_TASK 0   /* uprobes, syscall hooks */
#define STACK_SLOT_SCHED 1  /* sched_switch (interrupts off) */
#define STACK_SLOT_IRQ 2    /* perf_event sampling */
#define STACK_SLOT_RESUME 3 /* a thread's return to user mode (rseq_update, offcpu.bpf.c) */
#define STACK_SLOTS 4

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STACK_SLOTS);
	__type(key, __u32);
	__type(value, struct user_stack);
} stack_scratch SEC(".maps");

/* A thread's stack spans at most this much: a saved frame pointer further up is garbage. */
#define MAX_FRAME_SPAN (16u << 20)
/*
 * A frame of Java code spans at most this much: HotSpot's compiled frames and stubs take a few
 * KiB at most, an interpreted frame its expression stack and monitors (at most 64 Ki slots).
 */
#define MAX_JAVA_FRAME (1u << 20)
/*
 * Hops through a segment map to a blob's first segment: a hop goes back at most 254 segments
 * (128 bytes each with tiered compilation), so 32 reach the start of any blob under ~1 MiB.
 */
#define SEGMAP_HOPS 32
/* A frame's caller lies above its sp; the stack arguments of a continuation's bottom frame at most 255 words. */
#define CONT_ARGS_SPAN 2048

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
	__uint(max_entries, STACK_SLOTS);
	__type(key, __u32);
	__type(value, __u64[SCAN_WORDS]);
} scan_scratch SEC(".maps");

/* A code blob, as the walk needs it (find_blob). */
struct blob {
	__u64 start;       /* the CodeBlob */
	__u64 code_begin;
	__u64 end;
	__u64 verified_entry; /* nmethods: where the frame is built */
	__u64 deopt;          /* nmethods: the deoptimization handlers a deoptimized frame returns into */
	__u64 deopt_mh;
	__s64 orig_pc;        /* nmethods: where a deoptimized frame keeps its pc, from its sp (-1: unknown) */
	__s64 frame_complete; /* from code_begin, -1: none */
	__u32 frame_size;     /* bytes, return address and saved rbp included; 0: no frame of its own */
	__u32 kind;
	__u64 frame_data;     /* upcall stubs: their frame's data, from sp */
	__u32 compile_id;     /* nmethods: which compilation this code is (USER_FRAME_NMETHOD) */
	__u32 _pad;
};

/* Code bytes the walk decodes (entry_slot). */
struct code_bytes {
	__u8 c[64];
};

/* What unwinding a frame of Java code works on, one per slot (too big for the BPF stack). */
struct unwind_scratch {
	struct blob b;
	__u8 header[BLOB_HEADER_MAX]; /* the block's header and the blob's, as read */
	struct code_bytes code;
	__u64 words[12]; /* an interpreted frame's slots, a signal frame's registers */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STACK_SLOTS);
	__type(key, __u32);
	__type(value, struct unwind_scratch);
} blob_scratch SEC(".maps");

/* Whether a word can be a user-space pc (x86-64: below 2^47, 2^56 with five-level page tables). */
static __always_inline bool user_pc(__u64 pc)
{
	return pc >= 4096 && pc < (1ull << 56);
}

static __always_inline bool in_interpreter(__u64 pc)
{
	return pc >= interp_start && pc < interp_end;
}

static __always_inline bool in_code_cache(__u64 pc)
{
	return pc >= code_low && pc < code_high;
}

/*
 * Whether a record (saved rbp, return address) may hold any rbp: when it returns into Java code
 * (JIT code keeps no frame pointers of its own) or into the signal trampoline (the rbp of the
 * interrupted code).
 */
static __always_inline bool any_saved_fp(__u64 ret)
{
	return in_code_cache(ret) || (ret == sigreturn_pc && ret);
}

/*
 * Whether fp, above the stack pointer `above`, holds a frame record: a saved frame pointer above
 * it (or any, see any_saved_fp) and a return address.
 */
__attribute__((noinline)) int is_frame(__u64 fp, __u64 above)
{
	__u64 frame[2];
	if (fp <= above || fp - above > MAX_FRAME_SPAN || (fp & 7))
		return false;
	if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp))
		return false;
	if (!user_pc(frame[1]))
		return false;
	return any_saved_fp(frame[1]) || (frame[0] > fp && frame[0] - fp <= MAX_FRAME_SPAN && !(frame[0] & 7));
}

/* The frame anchor of a Java thread stopped outside Java code: its last Java frame. */
struct java_anchor {
	__u64 sp; /* 0: none (not a Java thread, in Java code with no call into the VM, or unknown) */
	__u64 pc;
	__u64 fp; /* set by the interpreter and the stubs that keep rbp as their frame pointer; else 0 */
};

/* The current thread's JavaThread (Thread::current()), or 0. */
static __always_inline __u64 current_java_thread(void)
{
	__u64 fsbase, dtv, block, jt;
	if (!jt_tls_module)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	fsbase = BPF_CORE_READ(task, thread.fsbase);
	/* glibc's tcbhead_t: the dtv pointer is its second word; a dtv entry is {block, to_free} */
	if (!fsbase || bpf_probe_read_user(&dtv, sizeof(dtv), (void *)(fsbase + 8)) || !dtv)
		return 0;
	if (bpf_probe_read_user(&block, sizeof(block), (void *)(dtv + 16 * jt_tls_module)) || !block || block == ~0ull)
		return 0;
	if (bpf_probe_read_user(&jt, sizeof(jt), (void *)(block + jt_tls_offset)) || !jt || (jt & 7))
		return 0;
	return jt;
}

/* The anchor of JavaThread jt; a->sp stays 0 when it has none (or none above sp). */
static __always_inline void read_java_anchor(__u64 jt, __u64 sp, struct java_anchor *a, __u32 slot)
{
	__u64 base;
	__u32 state;
	a->sp = 0;
	if (!jt || !jt_window_size || jt_window_size > SCAN_WORDS * sizeof(__u64))
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
	/* no pc: the last Java frame's return address is just below its sp (HotSpot's frame anchor) */
	if (a->sp && !a->pc)
		bpf_probe_read_user(&a->pc, sizeof(a->pc), (void *)(a->sp - 8));
	if (!a->sp || !in_code_cache(a->pc))
		a->sp = 0;
	if (a->fp && (a->fp <= a->sp || a->fp - a->sp > MAX_JAVA_FRAME || (a->fp & 7)))
		a->fp = 0;
}

/*
 * Whether the native frame with its record at rec (saved frame pointer saved_fp) is the one the
 * last Java frame called: it sits right under that frame's sp (a compiled frame or a stub calls
 * with its sp at the anchor's), or saved the frame pointer the anchor gives (the interpreter).
 */
static __always_inline bool enters_java(const struct java_anchor *a, __u64 rec, __u64 saved_fp)
{
	return rec + 16 == a->sp || (a->fp && saved_fp == a->fp);
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

struct range_search {
	__u64 pc;
	__u32 lo;
	__u32 hi;
};

/* One halving of the search for the first range whose end is above pc: a bpf_loop step, verified once. */
static long range_step(__u64 i, void *ctx)
{
	struct range_search *s = ctx;
	__u32 zero = 0;
	struct exec_ranges *r = bpf_map_lookup_elem(&exec_ranges, &zero);
	if (!r || s->lo >= s->hi)
		return 1;
	__u32 mid = (s->lo + s->hi) / 2;
	if (r->end[mid & (EXEC_RANGES_MAX - 1)] <= s->pc)
		s->lo = mid + 1;
	else
		s->hi = mid;
	return 0;
}

/*
 * Whether pc lies in an executable mapping of the process (exec_ranges): a data word (a pointer
 * into the heap or a stack) is not a return address however its bytes decode. All of the code
 * cache's reserved range counts (the JIT commits it as it fills it, faster than a reread). The
 * agent rewrites the table in place: a read while it does may see a mix, which can cost one stack
 * a frame or let one word through, never a fault. True while the table is empty (not known).
 */
static __always_inline bool executable(__u64 pc)
{
	if (in_code_cache(pc))
		return true;
	__u32 zero = 0;
	struct exec_ranges *r = bpf_map_lookup_elem(&exec_ranges, &zero);
	if (!r)
		return true;
	__u32 n = r->count;
	if (n == 0)
		return true;
	if (n > EXEC_RANGES_MAX)
		n = EXEC_RANGES_MAX;
	/* ten halvings cover EXEC_RANGES_MAX; a loop of branches would be explored path by path */
	struct range_search c = {.pc = pc, .lo = 0, .hi = n};
	bpf_loop(10, range_step, &c, 0);
	return c.lo < n && r->start[c.lo & (EXEC_RANGES_MAX - 1)] <= pc;
}

/*
 * Whether the bytes before ret end with a call instruction, as they must before a return
 * address: call rel32 (e8), or an indirect call (ff /2) through a register, memory, a
 * displacement or rip. A word of data (a heap pointer) passes by chance about once in fifty.
 */
__attribute__((noinline)) int after_call(__u64 ret)
{
	__u8 c[8];
	if (!user_pc(ret) || !executable(ret) || bpf_probe_read_user(c, sizeof(c), (void *)(ret - 8)))
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
 * Whether ret, found where a partly built frame keeps it, is a return address: into the
 * interpreter (its return entries), or right after a call, in the code cache or in native code.
 */
static __always_inline bool checked_return(__u64 ret)
{
	return in_interpreter(ret) || (ret == sigreturn_pc && ret) || after_call(ret);
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
	/* the chain goes on from the saved rbp, unless the record returns into the signal trampoline */
	if (!(next[1] == sigreturn_pc && next[1]) && !is_frame(next[0], w))
		return 0;
	/* a found record's return address must follow a call (JIT code is trusted: its bounds are known) */
	if (!in_code_cache(next[1]) && !after_call(next[1]))
		return 0;
	/* below the last Java frame, a chain that runs into Java code off its record (or past it) is stale */
	if (anchor_sp && w < anchor_sp) {
		struct java_anchor a = {.sp = anchor_sp, .fp = anchor_fp};
		if (in_code_cache(next[1])) {
			if (!enters_java(&a, w, next[0]))
				return 0;
		} else if (next[0] >= anchor_sp) {
			return 0;
		}
	}
	return 1;
}

/*
 * Whether rbp, where the walk starts in native code, holds the record of the innermost native
 * frame: libc may use the register for data, which can point at a stale record in an unwritten
 * slot, so its return address must follow a call (or be Java code, or the signal trampoline).
 */
__attribute__((noinline)) int native_record(__u64 fp, __u64 above)
{
	__u64 ret = 0;
	if (!is_frame(fp, above) || bpf_probe_read_user(&ret, sizeof(ret), (void *)(fp + 8)))
		return 0;
	return any_saved_fp(ret) || after_call(ret);
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
 * The walk between two frames: what walk_frame works on, in a map (walk_scratch). The frame
 * count lives in the stack being built (user_stack.depth).
 */
struct walk {
	__u64 pc;     /* of the frame to record next */
	__u64 sp;     /* its stack pointer (for a caller: the sp it called with) */
	__u64 fp;     /* its frame pointer (rbp), or what its callee saved of rbp */
	__u64 bcp;    /* r13 when the innermost frame is interpreted: its live bytecode pointer; else 0 */
	__u64 jt;     /* the current JavaThread, once known; else 0 */
	__u64 h;      /* hash of the frames recorded */
	__u64 h_keep; /* ... of the first keep frames */
	struct java_anchor a;
	__u32 flags;
	__u32 keep; /* frames kept when a stale native part is dropped */
	__u32 slot;
	bool native;      /* below the last Java frame (a.sp != 0 and not yet past it) */
	bool trusted;     /* past a Java frame: the native frames from here on keep their frame pointers (libjvm) */
	bool interrupted; /* the next frame is where a signal interrupted the thread: at any pc, like the innermost */
	bool skip;        /* the frame just unwound is no frame of the thread (a return barrier): not recorded */
	struct chunk_cursor chunk; /* in the mounted continuation's stack chunks (stack_chunk.bpf.h) while chunk.chunk */
};

/* The walk in progress, one per slot: off the BPF stack, which the probes' own records need. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STACK_SLOTS);
	__type(key, __u32);
	__type(value, struct walk);
} walk_scratch SEC(".maps");

/* The walk goes on at a frame of its own choosing: the last Java frame's anchor, a signal frame's saved registers. */
static __always_inline int jump_to(struct walk *w, __u64 pc, __u64 sp, __u64 fp)
{
	w->pc = pc;
	w->sp = sp;
	w->fp = fp;
	return 0;
}

/*
 * The walk steps to the caller of the frame it recorded last. A caller's frame lies above its
 * callee's, so its sp is strictly higher: a step that does not go up follows a stale or garbage
 * record, and could name the same frames again and again up to the depth limit (seen: a compiled
 * frame and its inlined callee repeated under a libc frame). The stack ends there, marked. Every
 * step keeps to it (a frame's caller by its size, by its frame pointer, an interpreted frame's by
 * its sender sp); only the jumps (jump_to) go elsewhere: to the last Java frame's anchor (once
 * for each anchor, and an anchor lies above where it is found), to the registers of a signal
 * frame (above it), to the innermost continuation's entry (at or above the barrier, once).
 */
static __always_inline int move_to(struct walk *w, __u64 pc, __u64 sp, __u64 fp)
{
	if (sp <= w->sp) {
		w->flags |= USER_STACK_INCOMPLETE;
		return 1;
	}
	return jump_to(w, pc, sp, fp);
}

/* The walk ends at a frame it cannot unwind: marked, never guessed. */
static __always_inline int incomplete(struct walk *w)
{
	w->flags |= USER_STACK_INCOMPLETE;
	return 1;
}

/*
 * Below the last Java frame (w->native): whether the chain from fp (saved_fp, ret: its record;
 * ret 0: it has none) must resume at the anchor instead — it ends, passes the anchor, or meets
 * Java code off the anchor's frame (stale: its frames after the first keep are dropped). Then it
 * moves w there and returns 1. A global function, so that the verifier checks it once.
 */
__attribute__((noinline)) int native_resumes(struct walk *w, struct user_stack *s, __u64 fp, __u64 saved_fp, __u64 ret)
{
	if (!w || !s)
		return 0;
	if (ret == sigreturn_pc && ret)
		return 0; /* a signal handler's frames: the walk goes on where the signal came */
	bool resume = fp >= w->a.sp || !ret, stale = false;
	if (!resume && in_code_cache(ret)) {
		if (enters_java(&w->a, fp, saved_fp)) {
			w->native = false; /* the chain reaches the last Java frame: go on */
			return 0;
		}
		resume = stale = true; /* Java code below the last Java frame, or off its frame */
	} else if (!resume && saved_fp >= w->a.sp) {
		resume = stale = true; /* a native caller beyond the last Java frame */
	}
	if (!resume)
		return 0;
	if (stale) {
		w->flags |= USER_STACK_RESUMED;
		s->depth = w->keep;
		w->h = w->h_keep;
	}
	w->native = false;
	w->trusted = true;
	jump_to(w, w->a.pc, w->a.sp, w->a.fp);
	return 1;
}

static __always_inline __u32 blob_u32(const __u8 *h, __u32 at)
{
	return at <= BLOB_HEADER_MAX - 4 ? *(const __u32 *)(h + at) : 0;
}

/*
 * The code blob that holds pc, from its code heap's segment map (HotSpot's CodeHeap::find_start:
 * each segment's byte says how many segments back to hop, 0 at a block's first, 0xff when free)
 * and its header, read live: a blob freed since is found free or fails the checks.
 */
__attribute__((noinline)) int find_blob(__u64 pc, struct unwind_scratch *u)
{
	if (!u)
		return 0;
	struct blob *b = &u->b;
	__u64 low = 0, segmap = 0, seg = 0;
	__u32 log2 = 0;
	for (int i = 0; i < CODE_HEAPS_MAX; i++) {
		if (i < hotspot.heap_count && pc >= hotspot.heaps[i].low && pc < hotspot.heaps[i].high) {
			low = hotspot.heaps[i].low;
			segmap = hotspot.heaps[i].segmap;
			log2 = hotspot.heaps[i].log2_segment;
		}
	}
	if (!low || log2 < 4 || log2 > 16)
		return 0;
	seg = (pc - low) >> log2;
	__u8 tag = 0xff;
	for (int i = 0; i < SEGMAP_HOPS; i++) {
		if (bpf_probe_read_user(&tag, 1, (void *)(segmap + seg)) || tag == 0xff || tag == 0 || seg < tag)
			break;
		seg -= tag;
	}
	if (tag != 0)
		return 0;
	/* the block's header and the blob's, in one read */
	__u8 *h = u->header;
	__u32 hb = hotspot.heap_block_size, size = hb + hotspot.header_size;
	if (hotspot.header_size < 64 || size > BLOB_HEADER_MAX || hotspot.block_used >= hb)
		return 0;
	__u64 block = low + (seg << log2);
	if (bpf_probe_read_user(h, size, (void *)block) || !h[hotspot.block_used & (BLOB_HEADER_MAX - 1)])
		return 0;
	b->start = block + hb;
	__u32 blob_size = blob_u32(h, hb + hotspot.blob_size), code_offset = blob_u32(h, hb + hotspot.blob_code_offset);
	__s32 frame_words = (__s32)blob_u32(h, hb + hotspot.blob_frame_size);
	if (frame_words < 0)
		frame_words = 0; /* no frame size (stubs that keep rbp as their frame pointer) */
	if (!blob_size || blob_size > (64u << 20) || pc >= b->start + blob_size || code_offset >= blob_size ||
	    frame_words > MAX_JAVA_FRAME / 8)
		return 0;
	b->code_begin = b->start + code_offset;
	b->end = b->start + blob_size;
	b->frame_size = frame_words * 8;
	__u32 at_fc = hb + hotspot.blob_frame_complete, at_kind = hb + hotspot.blob_kind;
	__u32 fc = at_fc <= BLOB_HEADER_MAX - 2 ? *(__s16 *)(h + (at_fc & (BLOB_HEADER_MAX - 1))) : -1;
	b->frame_complete = (__s16)fc;
	b->kind = at_kind < BLOB_HEADER_MAX ? h[at_kind & (BLOB_HEADER_MAX - 1)] : 0xff;
	b->verified_entry = b->deopt = b->deopt_mh = 0;
	b->orig_pc = -1;
	b->frame_data = 0;
	b->compile_id = 0;
	if (b->kind == hotspot.kind_nmethod) {
		b->compile_id = blob_u32(h, hb + hotspot.nm_compile_id);
		__u32 at_vep = hb + hotspot.nm_verified_entry;
		__u16 vep = at_vep <= BLOB_HEADER_MAX - 2 ? *(__u16 *)(h + (at_vep & (BLOB_HEADER_MAX - 1))) : 0;
		b->verified_entry = b->code_begin + vep;
		__u32 deopt = blob_u32(h, hb + hotspot.nm_deopt_handler), deopt_mh = blob_u32(h, hb + hotspot.nm_deopt_mh_handler);
		__s32 orig = (__s32)blob_u32(h, hb + hotspot.nm_orig_pc);
		b->deopt = deopt && deopt < blob_size ? b->start + deopt : 0;
		b->deopt_mh = deopt_mh && deopt_mh < blob_size ? b->start + deopt_mh : 0;
		b->orig_pc = orig >= 0 && orig < (__s32)b->frame_size ? orig : -1;
	} else if (b->kind == hotspot.kind_upcall) {
		b->frame_data = blob_u32(h, hb + hotspot.upcall_frame_data);
	}
	return 1;
}

/* The bytes around pc: code[8] is the instruction at pc, code[0..7] the bytes before it. */
static __always_inline bool code_around(__u64 pc, __u8 *code)
{
	return !bpf_probe_read_user(code, 16, (void *)(pc - 8));
}

/*
 * Where the return address of a compiled frame caught before its frame is complete lies, from
 * sp: 0 (nothing pushed yet), 8 (rbp pushed), or -1 (the frame is allocated: by its frame size).
 * HotSpot's prologue (MacroAssembler::verified_entry) after the inline cache check: stack
 * bangs (mov [rsp-n], eax), then either push rbp [mov rbp, rsp] sub rsp, n or sub rsp, n
 * followed by mov [rsp+n-16], rbp, then the nmethod entry barrier. -2: not one of these.
 */
__attribute__((noinline)) int entry_slot(__u64 pc, __u64 vep, struct code_bytes *code)
{
	if (!code)
		return -2;
	__u8 *c = code->c;
	if (pc < vep)
		return 0; /* the inline cache check */
	if (pc - vep >= sizeof(code->c))
		return -1; /* past where any prologue allocates its frame: the entry barrier */
	if (bpf_probe_read_user(c, sizeof(code->c), (void *)vep))
		return -2;
	__u32 at = 0;
	for (int i = 0; i < 3; i++) {
		if (c[at & 63] == 0x89 && c[(at + 1) & 63] == 0x84 && c[(at + 2) & 63] == 0x24)
			at += 7; /* mov [rsp+disp32], eax: a stack bang */
	}
	__u64 off = pc - vep;
	if (off <= at)
		return 0;
	__u8 op = c[at & 63];
	if (op == 0x55) { /* push rbp */
		at += 1;
		if (c[at & 63] == 0x48 && c[(at + 1) & 63] == 0x8b && c[(at + 2) & 63] == 0xec)
			at += 3; /* mov rbp, rsp */
		if (c[at & 63] == 0x48 && c[(at + 1) & 63] == 0x83 && c[(at + 2) & 63] == 0xec)
			at += 4; /* sub rsp, imm8 */
		else if (c[at & 63] == 0x48 && c[(at + 1) & 63] == 0x81 && c[(at + 2) & 63] == 0xec)
			at += 7; /* sub rsp, imm32 */
		/* no sub: a frame of two words, complete once rbp is pushed */
		return off < at ? 8 : -1;
	}
	if (op == 0x48 && (c[(at + 1) & 63] == 0x81 || c[(at + 1) & 63] == 0x83) && c[(at + 2) & 63] == 0xec)
		return -1; /* past sub rsp, n: allocated */
	return -2;
}

/*
 * Whether a compiled frame's innermost pc is in its epilogue, past popping its frame: at or after
 * pop rbp / leave, through the return poll (cmp rsp, [r15+d]; ja) or a native wrapper's pending
 * exception check (cmp qword [r15+d8], 0; jne), up to ret. 0: the return address is at [sp];
 * 8: at pop rbp ([sp] is the caller's rbp, [sp+8] the return address); -1: not there.
 */
__attribute__((noinline)) int exit_slot(__u64 pc)
{
	__u8 c[16];
	if (!code_around(pc, c))
		return -1;
	if (c[8] == 0xc3)
		return 0; /* ret */
	if (c[8] == 0x5d)
		return 8; /* pop rbp */
	if (c[7] == 0x5d || c[7] == 0xc9)
		return 0; /* right after pop rbp / leave */
	bool popped = c[3] == 0x5d || c[3] == 0xc9, popped32 = c[0] == 0x5d || c[0] == 0xc9;
	if (popped && c[4] == 0x49 && c[5] == 0x3b && c[6] == 0x67 && c[8] == 0x0f && c[9] == 0x87)
		return 0; /* ja of the return poll, cmp rsp, [r15+d8] */
	if (popped32 && c[1] == 0x49 && c[2] == 0x3b && c[3] == 0xa7 && c[8] == 0x0f && c[9] == 0x87)
		return 0; /* ja of the return poll, cmp rsp, [r15+d32] */
	if (c[2] == 0xc9 && c[3] == 0x49 && c[4] == 0x83 && c[5] == 0x7f && c[8] == 0x0f && c[9] == 0x85)
		return 0; /* jne of a native wrapper's exception check */
	return -1;
}

/*
 * Where the stub at pc begins: the greatest stub entry at or before pc inside its blob
 * (stub_entries, for the buffers that hold many stubs), else the blob's code.
 */
__attribute__((noinline)) __u64 stub_entry(__u64 pc, __u64 code_begin)
{
	__u64 n = stub_entry_count < STUB_ENTRIES_MAX ? stub_entry_count : STUB_ENTRIES_MAX - 1;
	/*
	 * How many entries are at or before pc, by steps of 256, 128 ... 1: a search without branches
	 * (addresses and counts stay below 2^63, so a difference's sign bit compares them), which the
	 * verifier follows as one path.
	 */
	__u64 below = 0;
#pragma unroll
	for (int k = 8; k >= 0; k--) {
		__u64 next = below + (1u << k);
		__u64 within = ((n - next) >> 63) ^ 1;
		__u64 before = ((pc - stub_entries[(next - 1) & (STUB_ENTRIES_MAX - 1)]) >> 63) ^ 1;
		below += (1u << k) & (0 - (within & before));
	}
	__u64 entry = below ? stub_entries[(below - 1) & (STUB_ENTRIES_MAX - 1)] : 0;
	return entry >= code_begin && entry <= pc ? entry : code_begin;
}

/* Whether the stub at entry keeps rbp as its frame pointer: it begins with push rbp; mov rbp, rsp. */
static __always_inline bool keeps_frame_pointer(__u64 entry)
{
	__u8 e[4];
	return !bpf_probe_read_user(e, sizeof(e), (void *)entry) && e[0] == 0x55 && e[1] == 0x48 && e[2] == 0x8b && e[3] == 0xec;
}

/*
 * Where the return address of a stub that keeps a frame pointer lies, from sp, when the stub is
 * the innermost frame: 0 at its first instruction or at ret or right after pop rbp / leave, 8
 * right after push rbp; -1: elsewhere (its frame pointer says).
 */
__attribute__((noinline)) int stub_slot(__u64 pc, __u64 entry)
{
	__u8 c[16];
	if (pc == entry)
		return 0;
	if (!code_around(pc, c))
		return -1;
	if (pc == entry + 1 || c[8] == 0xc3)
		return pc == entry + 1 ? 8 : 0;
	if (c[7] == 0x5d || c[7] == 0xc9)
		return 0;
	return -1;
}

/*
 * Where the return address of a native function caught at its first instructions lies, from sp:
 * 0 at endbr64 or push rbp, 8 right after push rbp (at mov rbp, rsp), 0 at ret; -1 elsewhere (its
 * frame pointer says). Its rbp is still its caller's there: a walk by it would skip the caller.
 */
__attribute__((noinline)) int native_slot(__u64 pc)
{
	__u8 c[16];
	if (!code_around(pc, c))
		return -1;
	if (c[8] == 0x55 || c[8] == 0xc3 || (c[8] == 0xf3 && c[9] == 0x0f && c[10] == 0x1e && c[11] == 0xfa))
		return 0;
	if (c[7] == 0x55 && c[8] == 0x48 && c[9] == 0x89 && c[10] == 0xe5)
		return 8;
	return -1;
}

/*
 * The caller of a frame whose return address lies at sp + slot (slot 8: its saved rbp at [sp]),
 * if that is one (checked_return); 1 otherwise.
 */
static __always_inline int partial_frame(struct walk *w, int slot)
{
	__u64 rec[2] = {};
	__u64 sp = w->sp;
	if (slot != 0 && slot != 8)
		return 1;
	if (bpf_probe_read_user(rec, sizeof(rec), (void *)sp))
		return 1;
	__u64 ret = slot ? rec[1] : rec[0];
	if (!checked_return(ret))
		return 1;
	return move_to(w, ret, sp + slot + 8, slot ? rec[0] : w->fp);
}

/*
 * The caller of a complete frame of frame_size bytes at w->sp: its return address and the
 * caller's rbp at the top of the frame. native_caller: the caller may be native code (an upcall
 * stub's), which must then return right after a call; else the caller is in the code cache.
 */
static __always_inline int sized_frame(struct walk *w, __u32 frame_size, bool native_caller)
{
	__u64 rec[2] = {};
	__u64 top = w->sp + frame_size;
	if (frame_size < 16 || frame_size > MAX_JAVA_FRAME || bpf_probe_read_user(rec, sizeof(rec), (void *)(top - 16)))
		return 1;
	if (!in_code_cache(rec[1]) && !(native_caller && after_call(rec[1])))
		return 1;
	return move_to(w, rec[1], top, rec[0]);
}

/*
 * The caller of a frame that keeps rbp as its frame pointer (stubs, the call stub). The nmethod
 * entry barrier's stub pushes a word (-1) before its frame: its return address is the next one.
 */
static __always_inline int fp_frame(struct walk *w, bool native_caller)
{
	__u64 rec[3] = {};
	__u64 fp = w->fp, top = fp + 16;
	if (fp < w->sp || fp - w->sp > MAX_JAVA_FRAME || (fp & 7) || bpf_probe_read_user(rec, sizeof(rec), (void *)fp))
		return 1;
	if (rec[1] == ~0ull && !native_caller) {
		rec[1] = rec[2];
		top += 8;
	}
	if (native_caller ? in_code_cache(rec[1]) || !after_call(rec[1]) : !in_code_cache(rec[1]) || !checked_return(rec[1]))
		return 1;
	return move_to(w, rec[1], top, rec[0]);
}

/* An interpreted frame: record its Method* and bcp, and move to its caller (fp[1], sp fp[-1], rbp fp[0]). */
__attribute__((noinline)) int unwind_interpreted(struct walk *w, struct user_frame *f, int innermost)
{
	if (!w || !f)
		return 1;
	__u64 fp = w->fp, sp = w->sp;
	__u32 slot = w->slot;
	struct unwind_scratch *u = bpf_map_lookup_elem(&blob_scratch, &slot);
	if (!u)
		return 1;
	/* words[0] = fp[-8] (bcp), words[5] = fp[-3] (Method*), words[7] = fp[-1] (sender sp), then fp[0], fp[1] */
	__u64 *words = u->words;
	if (fp <= sp || fp - sp > MAX_JAVA_FRAME || (fp & 7) || bpf_probe_read_user(words, 10 * sizeof(__u64), (void *)(fp - 64)))
		return incomplete(w);
	__u64 method = words[5], bcp = words[0], sender_sp = words[7];
	if (!method || (method & 7) || sender_sp <= fp || sender_sp - fp > MAX_JAVA_FRAME || !in_code_cache(words[9]))
		return incomplete(w);
	/* the innermost frame's bcp lives in r13 and reaches its slot only at calls: believed when near it */
	if (innermost && w->bcp && w->bcp - bcp + 65536 < 2 * 65536)
		bcp = w->bcp;
	f->pc = method;
	f->aux = USER_FRAME_INTERPRETED | (bcp & ~USER_FRAME_INTERPRETED);
	return move_to(w, words[9], sender_sp, words[8]);
}

/* A compiled Java method (an nmethod, native wrappers included): its caller by its frame size. */
__attribute__((noinline)) int unwind_compiled(struct walk *w, struct user_frame *f, struct unwind_scratch *u, int innermost)
{
	if (!w || !f || !u)
		return 1;
	const struct blob *b = &u->b;
	__u64 pc = w->pc, sp = w->sp;
	f->aux |= USER_FRAME_NMETHOD | b->compile_id;
	/* a deoptimized frame returns into the deoptimization handler; its own pc is kept in the frame */
	if ((pc == b->deopt || pc == b->deopt_mh) && b->orig_pc >= 0) {
		__u64 orig = 0;
		if (!bpf_probe_read_user(&orig, sizeof(orig), (void *)(sp + b->orig_pc)) && orig >= b->code_begin && orig < b->end)
			f->pc = orig;
	}
	if (!b->frame_size)
		return partial_frame(w, 0) ? incomplete(w) : 0; /* no frame of its own (a method handle intrinsic) */
	if (innermost) {
		int slot = b->frame_complete >= 0 && pc < b->code_begin + b->frame_complete ? entry_slot(pc, b->verified_entry, &u->code)
											    : exit_slot(pc);
		if (slot == -2)
			return incomplete(w);
		if (slot >= 0 && !partial_frame(w, slot))
			return 0;
	}
	return sized_frame(w, b->frame_size, false) ? incomplete(w) : 0;
}

/*
 * The frame of a stub or adapter (not an nmethod): by its frame size when it has one and is
 * complete, else by its frame pointer; the entry frame (the call stub, called by the VM) by
 * its frame pointer into native code; a continuation's return barrier at enterSpecial's frame.
 */
__attribute__((noinline)) int unwind_stub(struct walk *w, struct unwind_scratch *u, int innermost)
{
	if (!w || !u)
		return 1;
	const struct blob *b = &u->b;
	__u64 pc = w->pc, sp = w->sp;
	if (pc == hotspot.call_stub_return && pc)
		return fp_frame(w, true) ? incomplete(w) : 0;
	if (!innermost) {
		if (b->kind == hotspot.kind_upcall && b->frame_size) {
			/* Java code called from native code: the native frames under it are checked against the
			 * anchor of the Java frame that called out, which the stub keeps in its frame */
			__u64 jfa[3] = {};
			__u64 data = sp + b->frame_data + hotspot.upcall_anchor;
			if (sized_frame(w, b->frame_size, true))
				return incomplete(w);
			if (b->frame_data && !bpf_probe_read_user(jfa, sizeof(jfa), (void *)data) && jfa[0] > w->sp &&
			    jfa[0] - w->sp <= MAX_FRAME_SPAN && !(jfa[0] & 7)) {
				if (!jfa[1])
					bpf_probe_read_user(&jfa[1], sizeof(jfa[1]), (void *)(jfa[0] - 8));
				if (in_code_cache(jfa[1])) {
					w->a.sp = jfa[0];
					w->a.pc = jfa[1];
					w->a.fp = jfa[2];
					w->native = true;
				}
			}
			return 0;
		}
		if (b->frame_size)
			return sized_frame(w, b->frame_size, false) ? incomplete(w) : 0;
		/* the last frame thawed of a virtual thread returned into its continuation's return barrier */
		if (hotspot.cont_return_pc && hotspot.jt_cont_entry) {
			if (!w->jt)
				w->jt = current_java_thread();
			__u64 entry = 0;
			if (w->jt && !bpf_probe_read_user(&entry, sizeof(entry), (void *)(w->jt + hotspot.jt_cont_entry)) &&
			    entry >= sp && entry - sp <= CONT_ARGS_SPAN) {
				/* its frames below are in its stack chunks: walked there (chunk_frame, one call less deep
				 * than here: the TCP probe's programs are at the verifier's 512 bytes of stack) */
				if (chunk_oops && chunk_entry_size) {
					w->chunk.entry = entry;
					w->chunk.barrier = pc;
					w->skip = true;
					return 0;
				}
				/* a jump, not a step: the entry may lie right at the barrier's sp (no stack arguments),
				 * and only the innermost continuation's is ever taken, once */
				w->flags |= USER_STACK_CONTINUATION;
				return jump_to(w, hotspot.cont_return_pc, entry, entry + hotspot.cont_entry_size);
			}
		}
		/* it called out, so it has a frame: by its frame pointer, which its callee saved */
		return !keeps_frame_pointer(stub_entry(pc, b->code_begin)) || fp_frame(w, false) ? incomplete(w) : 0;
	}
	if (b->frame_size && b->frame_complete >= 0 && pc >= b->code_begin + b->frame_complete)
		return sized_frame(w, b->frame_size, b->kind == hotspot.kind_upcall) ? incomplete(w) : 0;
	/* vtable and itable stubs, method handle adapters and i2c/c2i adapters jump on: nothing pushed */
	if (b->kind == hotspot.kind_vtable || b->kind == hotspot.kind_mh_adapter || b->kind == hotspot.kind_adapter)
		return partial_frame(w, 0) ? incomplete(w) : 0;
	__u64 entry = stub_entry(pc, b->code_begin);
	if (keeps_frame_pointer(entry)) {
		/* rbp is the stub's once it is set; before, and once it is popped, the return address is on top */
		int slot = stub_slot(pc, entry);
		if (slot >= 0)
			return partial_frame(w, slot) ? incomplete(w) : 0;
		return fp_frame(w, false) ? incomplete(w) : 0;
	}
	/* no frame pointer of its own: rbp is some caller's, and would skip frames */
	if (b->frame_size)
		return sized_frame(w, b->frame_size, false) ? incomplete(w) : 0;
	return partial_frame(w, 0) ? incomplete(w) : 0; /* a leaf stub that pushed nothing */
}

/* A frame in the code cache (the interpreter, compiled code, stubs): records it and moves to its caller; 1 ends the walk. */
__attribute__((noinline)) int unwind_java(struct walk *w, struct user_frame *f, int innermost)
{
	if (!w || !f)
		return 1;
	if (in_interpreter(w->pc))
		return unwind_interpreted(w, f, innermost);
	__u32 slot = w->slot;
	struct unwind_scratch *u = bpf_map_lookup_elem(&blob_scratch, &slot);
	if (!u || !find_blob(w->pc, u))
		return incomplete(w);
	if (u->b.kind == hotspot.kind_nmethod)
		return unwind_compiled(w, f, u, innermost);
	return unwind_stub(w, u, innermost);
}

/*
 * The next frame in the mounted continuation's stack chunks (w->chunk): recorded, and the cursor
 * moved to its caller; after a chunk's bottom frame the walk goes on in its parent chunk, then at
 * Continuation.enterSpecial's frame. A frame that does not check out ends the chunks there: the
 * walk goes on at enterSpecial with the gap marked (USER_STACK_CONTINUATION). 1 ends the walk.
 */
__attribute__((noinline)) int chunk_frame(struct walk *w, struct user_stack *s)
{
	if (!w || !s)
		return 1;
	struct chunk_cursor *c = &w->chunk;
	__u32 depth = s->depth;
	if (depth >= USER_STACK_MAX_DEPTH) {
		w->flags |= USER_STACK_TRUNCATED;
		return 1;
	}
	struct user_frame *f = &s->frames[depth & (USER_STACK_MAX_DEPTH - 1)];
	__u64 pc = c->pc;
	int lost = 1;
	if (c->barrier) {
		/* the return barrier just unwound (unwind_stub): the chunks of the continuation at c->entry */
		pc = c->barrier;
		c->barrier = 0;
		if (chunk_enter(c, c->entry) <= 0) {
			/* not readable: the barrier stays the frame it looks like, and the gap is marked */
			f->pc = pc;
			f->aux = 0;
			c->chunk = 0;
			c->done = 1;
			goto recorded;
		}
		pc = c->pc;
	}
	f->pc = pc;
	f->aux = 0;
	if (in_interpreter(pc)) {
		if (!chunk_interpreted(c)) {
			f->pc = c->method;
			f->aux = USER_FRAME_INTERPRETED | (c->bcp & ~USER_FRAME_INTERPRETED);
			lost = 0;
		}
	} else if (in_code_cache(pc) && hotspot.heap_count) {
		__u32 slot = w->slot;
		struct unwind_scratch *u = bpf_map_lookup_elem(&blob_scratch, &slot);
		if (u && find_blob(pc, u) && u->b.frame_size) {
			const struct blob *b = &u->b;
			/* a frame deoptimized while frozen returns into the deoptimization handler; its pc is kept in the frame */
			if ((pc == b->deopt || pc == b->deopt_mh) && b->orig_pc >= 0 && b->kind == hotspot.kind_nmethod &&
			    !bpf_probe_read_user(&u->words[0], 8, (void *)(c->usp + b->orig_pc)) && u->words[0] >= b->code_begin &&
			    u->words[0] < b->end)
				f->pc = u->words[0];
			/* compiled Java code is named by the compilation found here (as unwind_compiled records it) */
			if (b->kind == hotspot.kind_nmethod)
				f->aux = USER_FRAME_NMETHOD | b->compile_id;
			lost = chunk_sized(c, b->frame_size);
		}
	}
	/* (every step inside a chunk goes up by construction, and stays below its bottom) */
recorded:
	w->h = mix(mix(w->h, f->pc), f->aux);
	s->depth = ++depth;
	if (depth == w->keep)
		w->h_keep = w->h;
	if (!lost && !c->done)
		return 0;
	int next = lost || !c->chunk ? -1 : chunk_next(c);
	if (next > 0)
		return 0;
	if (next < 0)
		w->flags |= USER_STACK_CONTINUATION;
	__u64 entry = c->entry;
	c->chunk = 0;
	return jump_to(w, hotspot.cont_return_pc, entry, entry + hotspot.cont_entry_size);
}

/*
 * The signal trampoline's frame: the signal frame (struct rt_sigframe, after its return address:
 * the ucontext, whose mcontext holds the interrupted registers) lies at w->sp. The walk goes on
 * where the signal interrupted the thread.
 */
__attribute__((noinline)) int signal_frame(struct walk *w)
{
	if (!w)
		return 1;
	/* the user ABI's struct ucontext: its mcontext's registers from r13 to ip */
	__u32 slot = w->slot;
	struct unwind_scratch *u = bpf_map_lookup_elem(&blob_scratch, &slot);
	if (!u)
		return 1;
	__u64 *regs = u->words;
	_Static_assert(__builtin_offsetof(struct sigcontext_64, ip) - __builtin_offsetof(struct sigcontext_64, r13) == 11 * 8,
		       "r13 .. ip");
	if (bpf_probe_read_user(regs, 12 * sizeof(__u64), (void *)(w->sp + __builtin_offsetof(struct ucontext, uc_mcontext.r13))))
		return 1;
	__u64 r13 = regs[0], rbp = regs[(__builtin_offsetof(struct sigcontext_64, bp) - __builtin_offsetof(struct sigcontext_64, r13)) / 8],
	      rsp = regs[(__builtin_offsetof(struct sigcontext_64, sp) - __builtin_offsetof(struct sigcontext_64, r13)) / 8], rip = regs[11];
	if (!user_pc(rip) || !rsp || (rsp & 7))
		return 1;
	/* the kernel builds the signal frame below the interrupted sp: one that says otherwise is stale */
	if (rsp <= w->sp)
		return incomplete(w);
	w->bcp = r13;
	w->interrupted = true;
	return jump_to(w, rip, rsp, rbp);
}

/*
 * Records the next frame of s (at w->pc) and moves w to its caller; 1 ends the walk. A global
 * function, so that the verifier checks it once: the bpf_loop callback around it has nothing to
 * tell its iterations apart, and converges at once.
 */
__attribute__((noinline)) int walk_frame(struct walk *w, struct user_stack *s)
{
	if (!w || !s)
		return 1;
	if (w->chunk.chunk || w->chunk.barrier)
		return chunk_frame(w, s);
	__u32 depth = s->depth;
	if (depth >= USER_STACK_MAX_DEPTH) {
		w->flags |= USER_STACK_TRUNCATED;
		return 1;
	}
	__u64 pc = w->pc, fp = w->fp;
	struct user_frame *f = &s->frames[depth & (USER_STACK_MAX_DEPTH - 1)];
	bool innermost = depth == 0 || w->interrupted;
	f->pc = pc;
	f->aux = depth && w->interrupted ? USER_FRAME_INTERRUPTED : 0;
	w->interrupted = false;
	bool java = in_code_cache(pc) && (hotspot.heap_count || in_interpreter(pc));
	int end = 0;
	if (java) {
		/* a Java frame is walked from its own registers: the anchor is for the native frames under one */
		w->native = false;
		end = unwind_java(w, f, innermost);
		if (w->skip) {
			w->skip = false;
			return end ? 1 : 0;
		}
	}
	w->h = mix(mix(w->h, f->pc), f->aux);
	s->depth = ++depth;
	if (depth == w->keep)
		w->h_keep = w->h;
	if (java) {
		w->trusted = true;
		return end ? 1 : 0;
	}
	if (pc == sigreturn_pc && pc) {
		w->trusted = false;
		return signal_frame(w) ? 1 : 0;
	}
	if (innermost && !partial_frame(w, native_slot(pc)))
		return 0;

	/* native code (or, with no code heaps known, any code): by its frame pointer */
	__u64 frame[2] = {}; /* saved frame pointer, return address */
	/* a record below the stack pointer is not this frame's: a stale one, or rbp holding data */
	bool below = fp && fp < w->sp;
	bool linked = !below && fp && !(fp & 7) && !bpf_probe_read_user(frame, sizeof(frame), (void *)fp) && user_pc(frame[1]) &&
		      (any_saved_fp(frame[1]) || (frame[0] > fp && frame[0] - fp <= MAX_FRAME_SPAN));
	/*
	 * Before any Java frame, native code without frame pointers (libc) may have left rbp on data
	 * or a stale record: a native return address must then follow a call. (Past one the chain is
	 * libjvm's and taken as it is: a check of executable ranges here, a bpf_loop in the deepest
	 * call chain, pushed the TCP probe's programs past the verifier's 512 bytes of combined stack.)
	 */
	bool checked = linked && (w->trusted || any_saved_fp(frame[1]) || after_call(frame[1]));
	if (w->native && native_resumes(w, s, fp, frame[0], checked ? frame[1] : 0))
		return 0;
	if (!checked) {
		if (linked || below)
			w->flags |= USER_STACK_INCOMPLETE;
		return 1;
	}
	return move_to(w, frame[1], fp + 16, frame[0]);
}

/* One frame a step (walk_frame); ctx: the slot. */
static long walk_step(__u64 i, void *ctx)
{
	__u32 slot = *(__u32 *)ctx;
	struct user_stack *s = bpf_map_lookup_elem(&stack_scratch, &slot);
	struct walk *w = bpf_map_lookup_elem(&walk_scratch, &slot);
	return s && w && !walk_frame(w, s) ? 0 : 1;
}

/*
 * A thread caught while the kernel single-steps a probed instruction out of line (a uprobe's, in
 * the [uprobes] page): the pc it stands for, in the probed code. Else pc itself.
 */
static __always_inline __u64 unstepped_pc(__u64 pc)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (!bpf_core_field_exists(task->utask))
		return pc;
	struct uprobe_task *u = BPF_CORE_READ(task, utask);
	if (!u)
		return pc;
	__u64 xol = BPF_CORE_READ(u, xol_vaddr), vaddr = BPF_CORE_READ(u, vaddr);
	int state = BPF_CORE_READ(u, state);
	return state != UTASK_RUNNING && xol && vaddr && pc >= xol && pc - xol < 128 ? vaddr + (pc - xol) : pc;
}

/* The stack walked into s, stored in user_stacks (once per distinct stack): its key. */
static __always_inline __u64 stored_stack(struct user_stack *s, struct walk *w)
{
	s->flags = w->flags;
	__u64 h = mix(w->h, ((__u64)w->flags << 32) | s->depth);
	if (h == NO_USER_STACK)
		h = 1;
	if (!bpf_map_lookup_elem(&user_stacks, &h))
		bpf_map_update_elem(&user_stacks, &h, s, BPF_ANY);
	return h;
}

/*
 * Walks the user stack from the registers the thread will return to user space with (bcp: its
 * r13, 0 if unknown). With at_entry (a uprobe on the first instruction of a function) the
 * function has not pushed a frame yet: its caller is the return address at the stack pointer,
 * which the frame chain would skip. Returns the key of the stack in user_stacks, or NO_USER_STACK.
 *
 * For a Java thread outside Java code the frames below its last Java frame (anchor) must be
 * native (checked unless at_entry, whose chain starts whole): a chain that meets Java code there,
 * or enters the Java frame anywhere but right under it, is stale. Its frames are dropped, the
 * innermost kept, and the walk resumes at the anchor (USER_STACK_RESUMED); so does a chain that
 * simply ends there, keeping its frames.
 */
static __always_inline __u64 walk_stack(__u64 pc, __u64 sp, __u64 fp, __u64 bcp, bool at_entry, __u32 slot)
{
	struct user_stack *s = bpf_map_lookup_elem(&stack_scratch, &slot);
	struct walk *w = bpf_map_lookup_elem(&walk_scratch, &slot);
	if (!s || !w || pc == 0)
		return NO_USER_STACK;
	__builtin_memset(w, 0, sizeof(*w));
	w->h = 0xcbf29ce484222325ull;
	w->slot = slot;
	w->bcp = bcp;
	/* at a function's entry the frame pointer is still the caller's: the chain is whole (and
	 * the anchor's reads, ~0.7 us, are saved); elsewhere libc may have reused the register */
	if (!at_entry) {
		pc = unstepped_pc(pc);
		w->jt = current_java_thread();
		read_java_anchor(w->jt, sp, &w->a, slot);
	}
	w->native = w->a.sp != 0;
	s->depth = 0;

	if (at_entry) {
		s->frames[0].pc = pc;
		s->frames[0].aux = 0;
		w->h = mix(mix(w->h, pc), 0);
		s->depth = 1;
		if (bpf_probe_read_user(&pc, sizeof(pc), (void *)sp) || pc == 0)
			goto done;
		sp += 8;
	}
	if (!at_entry && !in_code_cache(pc) && !native_record(fp, sp > 8 ? sp - 8 : 0)) {
		__u64 found = scan_for_frame(sp, slot, &w->a);
		if (found) {
			/* the innermost frame is kept; its frame pointer is the one found */
			fp = found;
		}
	}
	w->pc = pc;
	w->sp = sp;
	w->fp = fp;
	/* where the thread is (and at a function's entry its caller) */
	w->keep = at_entry ? 2 : 1;
	w->h_keep = w->h;
	bpf_loop(USER_STACK_MAX_DEPTH + 1, walk_step, &slot, 0);
done:
	return stored_stack(s, w);
}

/*
 * The stack of the continuation the current thread is mounting, from thaw's entry (before any of
 * its frames is copied back): its frames in its stack chunks (stack_chunk.bpf.h), then
 * Continuation.enterSpecial's frame, whose ContinuationEntry the thread has made its innermost
 * (JavaThread::_cont_entry) before it calls thaw, and the carrier's frames below. Returns the key
 * of the stack in user_stacks, or NO_USER_STACK when the chunks are not readable.
 */
static __always_inline __u64 frozen_user_stack(__u32 slot)
{
	struct user_stack *s = bpf_map_lookup_elem(&stack_scratch, &slot);
	struct walk *w = bpf_map_lookup_elem(&walk_scratch, &slot);
	__u64 entry = 0;
	if (!s || !w || !hotspot.jt_cont_entry || !hotspot.cont_return_pc)
		return NO_USER_STACK;
	__builtin_memset(w, 0, sizeof(*w));
	w->h = 0xcbf29ce484222325ull;
	w->slot = slot;
	w->jt = current_java_thread();
	if (!w->jt || bpf_probe_read_user(&entry, sizeof(entry), (void *)(w->jt + hotspot.jt_cont_entry)) || !entry ||
	    chunk_enter(&w->chunk, entry) <= 0)
		return NO_USER_STACK;
	s->depth = 0;
	w->keep = 1;
	w->h_keep = w->h;
	w->trusted = true;
	bpf_loop(USER_STACK_MAX_DEPTH + 1, walk_step, &slot, 0);
	return stored_stack(s, w);
}

static __always_inline __u64 walk_user_stack(__u64 pc, __u64 sp, __u64 fp, bool at_entry, __u32 slot)
{
	return walk_stack(pc, sp, fp, 0, at_entry, slot);
}

/* The user stack of the current task, from the registers saved at its entry into the kernel. */
static __always_inline __u64 current_user_stack(__u32 slot)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return NO_USER_STACK;
	return walk_stack(BPF_CORE_READ(regs, ip), BPF_CORE_READ(regs, sp), BPF_CORE_READ(regs, bp), BPF_CORE_READ(regs, r13),
			  false, slot);
}

/* The kernel stack at this point, or NO_STACK (in user mode, or the bucket is taken). */
static __always_inline __s32 current_kernel_stack(void *ctx)
{
	long id = bpf_get_stackid(ctx, &kernel_stacks, 0);
	return id < 0 ? NO_STACK : (__s32)id;
}

#endif
