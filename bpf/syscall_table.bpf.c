// SPDX-License-Identifier: Apache-2.0
/*
 * The running kernel's syscall names: ftrace fills one `struct syscall_metadata` per syscall at
 * boot (name "sys_openat", syscall_nr) and keeps pointers to them between the linker symbols
 * __start_syscalls_metadata and __stop_syscalls_metadata. This program, run once by the agent
 * through BPF_PROG_TEST_RUN, copies (nr → name) into `names`.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define SYSCALL_TABLE_MAX 1024
#define SYSCALL_NAME_LEN 64

extern const void __start_syscalls_metadata __ksym;
extern const void __stop_syscalls_metadata __ksym;

struct name {
	char s[SYSCALL_NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSCALL_TABLE_MAX);
	__type(key, __u32);
	__type(value, struct name);
} names SEC(".maps");

struct walk {
	__u64 start;
	__u64 stop;
	int found;
};

static long copy_one(__u64 i, struct walk *w)
{
	__u64 at = w->start + i * sizeof(void *);
	if (at >= w->stop)
		return 1; /* stop the loop */
	struct syscall_metadata *meta = NULL;
	if (bpf_probe_read_kernel(&meta, sizeof(meta), (void *)at) || !meta)
		return 0;
	int nr = -1;
	const char *name_ptr = NULL;
	if (bpf_probe_read_kernel(&nr, sizeof(nr), &meta->syscall_nr) ||
	    bpf_probe_read_kernel(&name_ptr, sizeof(name_ptr), &meta->name))
		return 0;
	if (nr < 0 || nr >= SYSCALL_TABLE_MAX || !name_ptr)
		return 0;
	__u32 key = nr;
	struct name *n = bpf_map_lookup_elem(&names, &key);
	if (!n)
		return 0;
	bpf_probe_read_kernel_str(n->s, sizeof(n->s), name_ptr);
	w->found++;
	return 0;
}

SEC("syscall")
int read_syscall_table(void *ctx)
{
	struct walk w = {
		.start = (__u64)&__start_syscalls_metadata,
		.stop = (__u64)&__stop_syscalls_metadata,
		.found = 0,
	};
	/* bpf_loop: one verification of the body however many entries there are */
	bpf_loop(SYSCALL_TABLE_MAX, copy_one, &w, 0);
	return w.found > 0 ? 0 : 1;
}
