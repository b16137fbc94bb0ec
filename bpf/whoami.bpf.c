// SPDX-License-Identifier: Apache-2.0
/*
 * whoami: the calling thread as the kernel knows it. The agent runs this program on its own
 * threads (BPF_PROG_TEST_RUN runs a syscall program in the caller's context) to learn the ids
 * the other programs compare with — the host's, whatever pid namespace the JVM runs in — and
 * the level of that namespace, at which they report thread ids back.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

/* One global (.bss), so that its layout is this struct's: read by the agent's KernelIds. */
struct whoami_ids {
	__u32 host_tgid;
	__u32 host_tid;
	__u32 ns_tid;
	__u32 pidns_level;
} ids = {};

SEC("syscall")
int whoami(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	ids.host_tgid = id >> 32;
	ids.host_tid = (__u32)id;
	struct task_struct *t = bpf_get_current_task_btf();
	struct pid *p = BPF_CORE_READ(t, thread_pid);
	__u32 level = p ? BPF_CORE_READ(p, level) : 0;
	ids.pidns_level = level;
	int nr = 0;
	if (p && level <= 32)
		bpf_probe_read_kernel(&nr, sizeof(nr), (void *)p + bpf_core_field_offset(struct pid, numbers) + level * sizeof(struct upid)
						       + bpf_core_field_offset(struct upid, nr));
	ids.ns_tid = nr;
	return 0;
}
