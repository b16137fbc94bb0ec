// SPDX-License-Identifier: Apache-2.0
/*
 * syscall: the latency of every syscall of the traced JVM. Every call is counted per syscall
 * in `stats` (per CPU: count, errors, total, max, log2 histogram) and in `period_max`, which the
 * agent reads and resets each period; calls at or above min_duration_ns also go one by one
 * into the `events` ring buffer. tp_btf: the cheapest syscall hooks on this kernel — but any
 * syscall hook slows every syscall on the host, which is why this probe is opt-in.
 */
#include "common.bpf.h"
#include "stack.bpf.h"
#include "syscall_latency.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_duration_ns = 0;

struct start {
	__u64 ns;
	__s64 nr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCALL_MAX_NR);
	__type(key, __u32);
	__type(value, struct syscall_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSCALL_MAX_NR);
	__type(key, __u32);
	__type(value, __u64);
} period_max SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline __u32 log2_bucket(__u64 v)
{
	__u32 b = 0;
	/* bounded: at most 64 halvings */
	for (int i = 0; i < 64 && v > 1; i++) {
		v >>= 1;
		b++;
	}
	return b < SYSCALL_HIST_BUCKETS ? b : SYSCALL_HIST_BUCKETS - 1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(syscall_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid) || id < 0)
		return 0;
	__u32 tid = (__u32)pid_tgid;
	struct start s = { .ns = bpf_ktime_get_ns(), .nr = id };
	bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(syscall_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return 0;
	__u32 tid = (__u32)pid_tgid;
	struct start *s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 start = s->ns;
	__s64 nr = s->nr;
	bpf_map_delete_elem(&starts, &tid);
	__u64 d = now - start;
	__u32 slot = nr < SYSCALL_MAX_NR ? (__u32)nr : SYSCALL_MAX_NR - 1;

	struct syscall_stats *st = bpf_map_lookup_elem(&stats, &slot);
	if (st) {
		st->count++;
		if (ret < 0 && ret >= -4095)
			st->errors++;
		st->total_ns += d;
		if (d > st->max_ns)
			st->max_ns = d;
		__u32 b = log2_bucket(d);
		if (b < SYSCALL_HIST_BUCKETS)
			st->histogram[b]++;
	}
	__u64 *pm = bpf_map_lookup_elem(&period_max, &slot);
	if (pm && d > *pm)
		*pm = d;

	if (d < min_duration_ns)
		return 0;
	struct syscall_latency_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return 0;
	}
	fill_header(&r->header, pid_tgid, start, now);
	/* the user registers are those of the call: the stack that made it */
	r->header.user_stack = current_user_stack(STACK_SLOT_TASK);
	r->header.kernel_stack_id = current_kernel_stack(ctx);
	r->result = ret;
	r->number = (__u32)nr;
	r->_pad = 0;
	bpf_ringbuf_submit(r, ringbuf_wakeup_flags(&events));
	return 0;
}

/* the records Java reads, for their generated layout */
BTF_EXPORT(syscall_latency_record)
BTF_EXPORT(syscall_stats)
