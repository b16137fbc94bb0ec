/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the BPF programs (kernel side only). */
#ifndef JFR_EBPF_COMMON_BPF_H
#define JFR_EBPF_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.h"
#include "mounted.bpf.h"

/* Set by the agent before load: the tgid of the JVM we run in. Nothing else leaves the kernel. */
const volatile __u32 targ_tgid = 0;
/* The agent's own threads (poller, chunk writer): their reads and writes are ours, not the
 * application's, and tracing them would feed our output back into our input. */
const volatile __u32 agent_tid = 0;
const volatile __u32 agent_writer_tid = 0;
/* ... and its background thread (detaching probes, which waits for the kernel's grace periods) */
const volatile __u32 agent_aux_tid = 0;
/*
 * The ids above are the kernel's (the host's pid namespace: what bpf_get_current_pid_tgid
 * returns). The JVM may run in a pid namespace of its own (a container): this is its level (0:
 * the host's), and the thread ids sent to the agent are the ones the JVM knows, at that level.
 */
const volatile __u32 targ_pidns_level = 0;

/* The id of a thread in the JVM's pid namespace (its tid as HotSpot and the container's /proc know it). */
static __always_inline __u32 ns_tid_of(struct task_struct *t)
{
	__u32 level = targ_pidns_level;
	if (level == 0 || level > 32)
		return BPF_CORE_READ(t, pid);
	struct pid *p = BPF_CORE_READ(t, thread_pid);
	if (!p || BPF_CORE_READ(p, level) < level)
		return BPF_CORE_READ(t, pid);
	int nr = 0;
	bpf_probe_read_kernel(&nr, sizeof(nr), (void *)p + bpf_core_field_offset(struct pid, numbers) + level * sizeof(struct upid)
					       + bpf_core_field_offset(struct upid, nr));
	return nr;
}

static __always_inline __u32 ns_tid_current(void)
{
	return targ_pidns_level ? ns_tid_of(bpf_get_current_task_btf()) : (__u32)bpf_get_current_pid_tgid();
}

/* A counter the agent reads and sums over CPUs (BpfMap.sumPerCpuLong). */
#define PERCPU_COUNTER(name)                                                                       \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                           \
		__uint(max_entries, 1);                                                            \
		__type(key, __u32);                                                                \
		__type(value, __u64);                                                              \
	} name SEC(".maps")

static __always_inline void count_in(void *counter)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(counter, &zero);
	if (n)
		*n += 1;
}

/* Records that did not fit in the ring buffer. */
PERCPU_COUNTER(lost);

static __always_inline void count_lost(void)
{
	count_in(&lost);
}

/*
 * Wake the agent only when a batch is waiting. A wake-up per record is an interrupt on the
 * traced thread's CPU (irq_work), and under a hypervisor every interrupt is a VM exit: it cost
 * the application more than the probe itself. The agent also polls every few milliseconds, so
 * records never wait longer than that.
 */
#define RINGBUF_WAKEUP_BYTES (128 * 1024)

static __always_inline __u64 ringbuf_wakeup_flags(void *ringbuf)
{
	return bpf_ringbuf_query(ringbuf, BPF_RB_AVAIL_DATA) >= RINGBUF_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
										      : BPF_RB_NO_WAKEUP;
}

static __always_inline bool is_target(__u64 pid_tgid)
{
	__u32 tid = (__u32)pid_tgid;

	return (__u32)(pid_tgid >> 32) == targ_tgid && tid != agent_tid && tid != agent_writer_tid && tid != agent_aux_tid;
}

/* The same test for a task that is not necessarily the current one (the tasks of tp_btf scheduler tracepoints). */
static __always_inline bool is_target_task(struct task_struct *t)
{
	/* t is a tp_btf argument: read directly (a load the verifier guards), not by a helper call,
	 * since every context switch on the host comes here */
	if (t->tgid != targ_tgid)
		return false;
	__u32 tid = t->pid;
	return tid != agent_tid && tid != agent_writer_tid && tid != agent_aux_tid;
}

/* The header of a record about a task of ours that need not be the current one (scheduler tracepoints). */
static __always_inline void fill_task_header(struct event_header *h, struct task_struct *t, __u64 start_ns, __u64 end_ns,
					     __u64 user_stack, __u64 java_thread_id)
{
	h->timestamp_ns = start_ns;
	h->duration_ns = end_ns - start_ns;
	h->pid = targ_tgid;
	h->tid = ns_tid_of(t);
	h->user_stack = user_stack;
	h->kernel_stack_id = NO_STACK;
	h->_pad = 0;
	BPF_CORE_READ_STR_INTO(&h->comm, t, comm);
	h->java_thread_id = java_thread_id; /* read when t was the current task (mounted.bpf.h) */
}

/*
 * Puts a struct shared with Java into the object's BTF, from which bpf/gen/Skeletons.java
 * writes its Java layout (clang leaves a type out of BTF when only locals use it): a function
 * no program calls, so libbpf leaves it out of every program it loads.
 */
#define BTF_EXPORT(type)                                                                                    \
	__attribute__((noinline)) int btf_export_##type(struct type *value)                                   \
	{                                                                                                  \
		return value != 0;                                                                         \
	}

static __always_inline void fill_header(struct event_header *h, __u64 pid_tgid, __u64 start_ns, __u64 end_ns)
{
	h->timestamp_ns = start_ns;
	h->duration_ns = end_ns - start_ns;
	h->pid = pid_tgid >> 32;
	h->tid = targ_pidns_level ? ns_tid_current() : (__u32)pid_tgid;
	h->user_stack = NO_USER_STACK;
	h->kernel_stack_id = NO_STACK;
	h->_pad = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	h->java_thread_id = mounted_thread_id();
}

#endif
