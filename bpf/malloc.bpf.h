/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What both malloc objects share (malloc.bpf.c: uprobe + uretprobe; malloc_session.bpf.c: one
 * uprobe session per function, which skips the return trap of calls it does not sample).
 *
 * malloc: sampled native allocations of our process, with the stack of the caller, and the ones
 * not freed (leak candidates). Uprobes on the libc this JVM maps, attached for our pid only.
 *
 * Sampling, by size: an allocation of `size` bytes is sampled with probability
 * min(1, size / interval) and then stands for max(size, interval) bytes. The expected weight of
 * every allocation is therefore exactly its size (p * w = size / interval * interval, or 1 * size),
 * whatever the mix of sizes: sums of weights estimate bytes without bias. Allocations of
 * `interval` bytes or more are always sampled, at their own size. interval 0: every call, weight
 * = size. (A per-thread byte countdown, as tcmalloc does, has the same expectation but needs
 * floating point for its exponential draws.)
 *
 * Entry programs decide and remember the sample by thread; the return program learns the address
 * and sends the record. free() only deletes the address from `live`: a free of memory that was not
 * sampled is one failed hash lookup.
 */
#ifndef JFR_EBPF_MALLOC_BPF_H
#define JFR_EBPF_MALLOC_BPF_H

#include "common.bpf.h"
#include "stack.bpf.h"
#include "malloc.h"

/* bytes per sample; 0 = every call. At most 2^32 - 1 (the agent checks): size * 2^32 must fit. */
const volatile __u64 interval = 512 * 1024;

struct pending {
	__u64 ns;
	__u64 size;
	__u64 weight;     /* 0: not sampled (only realloc's old pointer matters) */
	__u64 user_stack;
	__u64 old;        /* realloc: the block it resizes */
	__u64 out;        /* posix_memalign: where the address is written */
	__u32 function;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LIVE_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct live_allocation);
} live SEC(".maps");

/* Sampled allocations that `live` had no room for: the leak report says how many. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} untracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

/* The weight of a sample of this size, or 0 when it is not sampled. */
static __always_inline __u64 sample(__u64 size)
{
	if (interval == 0)
		return size;
	if (size >= interval)
		return size;
	if (size == 0)
		return 0;
	/* size < interval < 2^32: size << 32 does not overflow */
	if ((__u64)bpf_get_prandom_u32() < (size << 32) / interval)
		return interval;
	return 0;
}

/* Returns whether the call's return must be seen: it was sampled, or it resizes a tracked block. */
static __always_inline bool enter(struct pt_regs *ctx, __u32 function, __u64 size, __u64 old, __u64 out)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return false;
	__u64 weight = sample(size);
	if (old && !bpf_map_lookup_elem(&live, &old))
		old = 0; /* not sampled when it was allocated: nothing to forget */
	if (!weight && !old)
		return false;
	__u32 tid = (__u32)pid_tgid;
	struct pending p = {
		.ns = bpf_ktime_get_ns(),
		.size = size,
		.weight = weight,
		.user_stack = NO_USER_STACK,
		.old = old,
		.out = out,
		.function = function,
	};
	if (weight)
		/* at the first instruction: the caller is the return address at the stack pointer */
		p.user_stack = walk_user_stack(PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx), true, STACK_SLOT_TASK);
	return bpf_map_update_elem(&pending, &tid, &p, BPF_ANY) == 0;
}

static __always_inline void track(__u32 tid, struct pending *p, __u64 address)
{
	struct live_allocation a = {
		.ns = p->ns,
		.bytes = p->size,
		.weight = p->weight,
		.user_stack = p->user_stack,
		.tid = targ_pidns_level ? ns_tid_current() : tid, /* reported: the JVM's own thread id */
		.function = p->function,
	};
	if (bpf_map_update_elem(&live, &address, &a, BPF_ANY)) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&untracked, &zero);
		if (n)
			*n += 1;
	}
	struct malloc_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	fill_header(&r->header, pid_tgid, p->ns, p->ns);
	r->header.user_stack = p->user_stack;
	r->address = address;
	r->bytes = p->size;
	r->weight = p->weight;
	r->function = p->function;
	r->_pad = 0;
	bpf_ringbuf_submit(r, ringbuf_wakeup_flags(&events));
}

/* At a return: what the entry of this thread's call remembered, or NULL (not sampled, not ours). */
static __always_inline struct pending *pending_call(__u32 *tid)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return NULL;
	*tid = (__u32)pid_tgid;
	return bpf_map_lookup_elem(&pending, tid);
}

/* malloc, calloc, realloc, aligned_alloc/memalign returned the address (NULL on failure). */
static __always_inline void leave_alloc(__u64 address)
{
	__u32 tid;
	struct pending *p = pending_call(&tid);
	if (!p)
		return;
	/* realloc moved or freed the old block (realloc(p, 0) frees it and may return NULL);
	 * a failed realloc leaves it where it was */
	if (p->old && (address || p->size == 0))
		bpf_map_delete_elem(&live, &p->old);
	if (p->weight && address)
		track(tid, p, address);
	bpf_map_delete_elem(&pending, &tid);
}

/* posix_memalign returned 0 and wrote the address to *out. */
static __always_inline void leave_posix_memalign(int ret)
{
	__u32 tid;
	struct pending *p = pending_call(&tid);
	if (!p)
		return;
	__u64 address = 0;
	if (ret == 0 && p->weight && !bpf_probe_read_user(&address, sizeof(address), (void *)p->out) && address)
		track(tid, p, address);
	bpf_map_delete_elem(&pending, &tid);
}

/*
 * free(ptr). Attached where the agent found it cheapest: glibc's free starts with
 * `test rdi,rdi; je`, which the kernel must single-step (~30 us per call on our VM), so when
 * those bytes are there the probe sits on the next instruction (a push, emulated, ~7 us), which
 * free(NULL) never reaches; rdi still holds the pointer there.
 */
SEC("uprobe")
int BPF_KPROBE(uprobe_free, void *ptr)
{
	if (!ptr || !is_target(bpf_get_current_pid_tgid()))
		return 0;
	__u64 address = (__u64)ptr;
	bpf_map_delete_elem(&live, &address);
	return 0;
}

/* the record Java reads, for its generated layout */
BTF_EXPORT(malloc_record)

#endif
