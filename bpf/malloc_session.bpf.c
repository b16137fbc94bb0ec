// SPDX-License-Identifier: Apache-2.0
/*
 * malloc with uprobe sessions (Linux 6.13+): one program per function runs at its entry and,
 * only when the entry returns 0, at its return. Calls that are not sampled (all but one in
 * ~malloc.interval / size) pay the entry trap alone; the return trap cost three times the entry
 * trap on our VM. The agent loads these with expected attach type BPF_TRACE_UPROBE_SESSION and
 * attaches them through BPF_LINK_CREATE (uprobe_multi), for our pid only.
 * Sampling, maps and free: malloc.bpf.h.
 */
#include "malloc.bpf.h"

char LICENSE[] SEC("license") = "GPL";

extern bool bpf_session_is_return(void) __ksym;

/* 0: see the return too; 1: skip it */
#define SESSION(want_return) ((want_return) ? 0 : 1)

SEC("uprobe")
int uprobe_malloc(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		leave_alloc(PT_REGS_RC(ctx));
		return 0;
	}
	return SESSION(enter(ctx, MALLOC_MALLOC, PT_REGS_PARM1(ctx), 0, 0));
}

SEC("uprobe")
int uprobe_calloc(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		leave_alloc(PT_REGS_RC(ctx));
		return 0;
	}
	/* a product that wraps is more than any address space: calloc returns NULL and nothing is tracked */
	return SESSION(enter(ctx, MALLOC_CALLOC, PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx), 0, 0));
}

SEC("uprobe")
int uprobe_realloc(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		leave_alloc(PT_REGS_RC(ctx));
		return 0;
	}
	return SESSION(enter(ctx, MALLOC_REALLOC, PT_REGS_PARM2(ctx), PT_REGS_PARM1(ctx), 0));
}

SEC("uprobe")
int uprobe_posix_memalign(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		leave_posix_memalign((int)PT_REGS_RC(ctx));
		return 0;
	}
	return SESSION(enter(ctx, MALLOC_POSIX_MEMALIGN, PT_REGS_PARM3(ctx), 0, PT_REGS_PARM1(ctx)));
}

SEC("uprobe")
int uprobe_aligned_alloc(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		leave_alloc(PT_REGS_RC(ctx));
		return 0;
	}
	return SESSION(enter(ctx, MALLOC_ALIGNED_ALLOC, PT_REGS_PARM2(ctx), 0, 0));
}
