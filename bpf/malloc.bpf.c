// SPDX-License-Identifier: Apache-2.0
/*
 * malloc, classic attachment (kernels before 6.13): a uprobe at each function's entry decides
 * the sample, a uretprobe at its return learns the address. Every call pays both traps.
 * Sampling, maps and free: malloc.bpf.h.
 */
#include "malloc.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("uprobe")
int BPF_KPROBE(uprobe_malloc, __u64 size)
{
	enter(ctx, MALLOC_MALLOC, size, 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_calloc, __u64 n, __u64 size)
{
	/* a product that wraps is more than any address space: calloc returns NULL and nothing is tracked */
	enter(ctx, MALLOC_CALLOC, n * size, 0, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_realloc, void *old, __u64 size)
{
	enter(ctx, MALLOC_REALLOC, size, (__u64)old, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_posix_memalign, void **out, __u64 alignment, __u64 size)
{
	enter(ctx, MALLOC_POSIX_MEMALIGN, size, 0, (__u64)out);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_aligned_alloc, __u64 alignment, __u64 size)
{
	enter(ctx, MALLOC_ALIGNED_ALLOC, size, 0, 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_alloc, void *ret)
{
	leave_alloc((__u64)ret);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_posix_memalign, int ret)
{
	leave_posix_memalign(ret);
	return 0;
}
