// SPDX-License-Identifier: Apache-2.0
/*
 * cpu: a perf_event software cpu-clock timer at cpu.hz on every CPU (the agent opens one per
 * CPU); each tick that interrupts one of our threads becomes a record with its user and kernel
 * stacks. Time in the kernel on behalf of our threads is sampled too, which JFR's sampler cannot
 * see. Ticks on other processes' threads return at the first test.
 */
#include "common.bpf.h"
#include "stack.bpf.h"
#include "cpu_sample.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} events SEC(".maps");

SEC("perf_event")
int cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return 0;
	struct cpu_sample_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return 0;
	}
	__u64 now = bpf_ktime_get_ns();
	fill_header(&r->header, pid_tgid, now, now);
	/* the interrupted pc: kernel text lives in the upper half of the address space */
	bool user = (__s64)PT_REGS_IP(&ctx->regs) >= 0;
	r->header.user_stack = current_user_stack(STACK_SLOT_IRQ);
	r->header.kernel_stack_id = user ? NO_STACK : current_kernel_stack(ctx);
	r->cpu = bpf_get_smp_processor_id();
	r->state = user ? CPU_STATE_USER : CPU_STATE_KERNEL;
	bpf_ringbuf_submit(r, ringbuf_wakeup_flags(&events));
	return 0;
}

/* the records Java reads, for their generated layout */
BTF_EXPORT(cpu_sample_record)
