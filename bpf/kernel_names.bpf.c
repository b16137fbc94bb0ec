// SPDX-License-Identifier: GPL-2.0
/*
 * kernel_names: the kernel names its own text addresses. For each pc the agent puts in the
 * batch, bpf_snprintf's "%pS" writes what an oops would print: "function+0xoffset/0xsize", with
 * " [module]" for a module's text and "bpf_prog_<tag>_<name>" for a BPF program (kallsyms'
 * own lookup, in the kernel), or the bare hex address where no symbol holds it. The agent runs
 * it (BPF_PROG_TEST_RUN) for the pcs of kernel stacks it has not named yet, instead of reading
 * and indexing all of /proc/kallsyms (~120,000 lines, 5 MB) in the JVM.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kernel_names.h"

char LICENSE[] SEC("license") = "GPL";

/* .bss: the agent writes count and pcs, runs the program, reads lengths and names */
struct kernel_name_batch batch = {};

SEC("syscall")
int kernel_names(void *ctx)
{
	__u32 n = batch.count;
	if (n > KERNEL_NAMES_BATCH)
		n = KERNEL_NAMES_BATCH;
	for (__u32 i = 0; i < n && i < KERNEL_NAMES_BATCH; i++) {
		__u64 pc = batch.pcs[i];
		batch.lengths[i] = bpf_snprintf(batch.names[i], KERNEL_NAME_LEN, "%pS", &pc, sizeof(pc));
	}
	return 0;
}
