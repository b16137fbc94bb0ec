// SPDX-License-Identifier: Apache-2.0
/*
 * file: every open, openat, openat2 and creat of the traced JVM, with path, flags, result and
 * duration. Two ways in, the agent loads one:
 *  - uprobes on the libc the JVM maps, attached for our pid only (default: no other process on
 *    the host pays anything). libc returns -1 and keeps the error in its thread-local errno,
 *    which the return program reads at fsbase + errno_tls_offset (found by the agent).
 *  - the tp_btf syscall hooks, when the syscall probe taxes the host anyway; these also see
 *    libc's internal opens (fopen, opendir, dlopen).
 * The path is read when the call returns: the kernel has just read it, so it is paged in.
 */
#include "common.bpf.h"
#include "stack.bpf.h"
#include "file_open.h"

char LICENSE[] SEC("license") = "GPL";

/* Offset of libc's errno from the thread pointer (fsbase); 0 = unknown. */
const volatile __s64 errno_tls_offset = 0;
/* Syscall numbers of the running kernel; -1 = absent. */
const volatile int nr_open = -1;
const volatile int nr_openat = -1;
const volatile int nr_openat2 = -1;
const volatile int nr_creat = -1;

#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_TMPFILE_MASK (020000000 | 0200000)

struct pending {
	__u64 ns;
	__u64 path;
	__s32 dirfd;
	__u32 flags;
	__u32 mode;
	__u64 user_stack;
	__s32 kernel_stack_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_open_record);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

/* The stacks of the call are taken here, when the thread enters the function or the syscall. */
static __always_inline int enter(bool uprobe, void *ctx, const char *path, int dirfd, __u32 flags, __u32 mode)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return 0;
	__u32 tid = (__u32)pid_tgid;
	struct pending p = {
		.ns = bpf_ktime_get_ns(),
		.path = (__u64)path,
		.dirfd = dirfd,
		.flags = flags,
		.mode = (flags & O_CREAT) || (flags & O_TMPFILE_MASK) == O_TMPFILE_MASK ? mode : 0,
		.kernel_stack_id = NO_STACK,
	};
	if (uprobe) {
		/* the uprobe's registers are the function's entry state: its caller is at the stack pointer */
		struct pt_regs *regs = ctx;
		p.user_stack = walk_user_stack(PT_REGS_IP(regs), PT_REGS_SP(regs), PT_REGS_FP(regs), true, STACK_SLOT_TASK);
	} else {
		p.user_stack = current_user_stack(STACK_SLOT_TASK);
		p.kernel_stack_id = current_kernel_stack(ctx);
	}
	bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	return 0;
}

static __always_inline int leave(long result, __u32 path_flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!is_target(pid_tgid))
		return 0;
	__u32 tid = (__u32)pid_tgid;
	struct pending *p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0;
	struct file_open_record *r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r) {
		bpf_map_delete_elem(&pending, &tid);
		return 0;
	}
	fill_header(&r->header, pid_tgid, p->ns, now);
	r->header.user_stack = p->user_stack;
	r->header.kernel_stack_id = p->kernel_stack_id;
	r->result = result;
	r->dirfd = p->dirfd;
	r->flags = p->flags;
	r->mode = p->mode;
	r->path_flags = path_flags;
	r->_pad = 0;
	long n = bpf_probe_read_user_str(r->path, sizeof(r->path), (const void *)p->path);
	bpf_map_delete_elem(&pending, &tid);
	__u32 len = 0;
	if (n > 0) {
		len = n - 1; /* without the NUL */
		if (len == FILE_PATH_MAX - 1 && r->path[FILE_PATH_MAX - 1 & (FILE_PATH_MAX - 1)] == 0) {
			/* filled the buffer: the string may go on */
			r->path_flags |= FILE_OPEN_TRUNCATED;
		}
	}
	if (len > FILE_PATH_MAX - 1)
		len = FILE_PATH_MAX - 1;
	r->path_len = len;
	__u64 size = offsetof(struct file_open_record, path) + len + 1;
	if (size > sizeof(*r))
		size = sizeof(*r);
	if (bpf_ringbuf_output(&events, r, size, ringbuf_wakeup_flags(&events)))
		count_lost();
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_open, const char *path, int flags, int mode)
{
	return enter(true, ctx, path, FILE_OPEN_AT_FDCWD, flags, mode);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_openat, int dirfd, const char *path, int flags, int mode)
{
	return enter(true, ctx, path, dirfd, flags, mode);
}

SEC("uprobe")
int BPF_KPROBE(uprobe_creat, const char *path, int mode)
{
	return enter(true, ctx, path, FILE_OPEN_AT_FDCWD, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_open, long rax)
{
	/* open, openat and creat return int: the upper half of rax is not part of the result */
	int ret = (int)rax;
	if (ret >= 0)
		return leave(ret, 0);
	if (errno_tls_offset == 0)
		return leave(-1, FILE_OPEN_ERRNO_UNKNOWN);
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 fsbase = BPF_CORE_READ(task, thread.fsbase);
	int err = 0;
	if (!fsbase || bpf_probe_read_user(&err, sizeof(err), (void *)(fsbase + errno_tls_offset)) || err <= 0)
		return leave(-1, FILE_OPEN_ERRNO_UNKNOWN);
	return leave(-err, 0);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(tp_sys_enter_open, struct pt_regs *regs, long id)
{
	if (id < 0 || !(id == nr_open || id == nr_openat || id == nr_openat2 || id == nr_creat))
		return 0;
	if (!is_target(bpf_get_current_pid_tgid()))
		return 0;
	__u64 a0 = BPF_CORE_READ(regs, di);
	__u64 a1 = BPF_CORE_READ(regs, si);
	__u64 a2 = BPF_CORE_READ(regs, dx);
	__u64 a3 = BPF_CORE_READ(regs, r10);
	if (id == nr_open)
		return enter(false, ctx, (const char *)a0, FILE_OPEN_AT_FDCWD, a1, a2);
	if (id == nr_creat)
		return enter(false, ctx, (const char *)a0, FILE_OPEN_AT_FDCWD, O_CREAT | O_WRONLY | O_TRUNC, a1);
	if (id == nr_openat)
		return enter(false, ctx, (const char *)a1, (int)a0, a2, a3);
	/* openat2(dirfd, path, struct open_how *how, size): how = { u64 flags; u64 mode; u64 resolve } */
	__u64 how[2] = {};
	bpf_probe_read_user(how, sizeof(how), (const void *)a2);
	return enter(false, ctx, (const char *)a1, (int)a0, (__u32)how[0], (__u32)how[1]);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tp_sys_exit_open, struct pt_regs *regs, long ret)
{
	/* only threads with a pending open of ours have an entry */
	return leave(ret, 0);
}

/* the records Java reads, for their generated layout */
BTF_EXPORT(file_open_record)
