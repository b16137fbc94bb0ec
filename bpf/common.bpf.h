/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the BPF programs (kernel side only). */
#ifndef JFR_EBPF_COMMON_BPF_H
#define JFR_EBPF_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.h"

/* Set by the agent before load: the tgid of the JVM we run in. Nothing else leaves the kernel. */
const volatile __u32 targ_tgid = 0;
/* The agent's own threads (poller, chunk writer): their reads and writes are ours, not the
 * application's, and tracing them would feed our output back into our input. */
const volatile __u32 agent_tid = 0;
const volatile __u32 agent_writer_tid = 0;

/* Records that did not fit in the ring buffer: read and summed over CPUs by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		*n += 1;
}

static __always_inline bool is_target(__u64 pid_tgid)
{
	__u32 tid = (__u32)pid_tgid;

	return (__u32)(pid_tgid >> 32) == targ_tgid && tid != agent_tid && tid != agent_writer_tid;
}

static __always_inline void fill_header(struct event_header *h, __u64 pid_tgid, __u64 start_ns, __u64 end_ns)
{
	h->timestamp_ns = start_ns;
	h->duration_ns = end_ns - start_ns;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->user_stack_id = NO_STACK;
	h->kernel_stack_id = NO_STACK;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

#endif
