/* SPDX-License-Identifier: Apache-2.0 */
/* Records and maps of malloc.bpf.c, mirrored in Java by MallocRecord (checked by LayoutTest). */
#ifndef JFR_EBPF_MALLOC_H
#define JFR_EBPF_MALLOC_H

#include "common.h"

/* Which libc function allocated. */
#define MALLOC_MALLOC 1
#define MALLOC_CALLOC 2
#define MALLOC_REALLOC 3
#define MALLOC_POSIX_MEMALIGN 4
#define MALLOC_ALIGNED_ALLOC 5 /* aligned_alloc and memalign: one function in glibc */

/* One sampled allocation that succeeded. */
struct malloc_record {
	struct event_header header; /* stacks: the caller of the libc function */
	__u64 address;
	__u64 bytes;                /* bytes asked for */
	__u64 weight;               /* bytes this sample stands for: max(size, interval), or size when every call is sampled */
	__u32 function;             /* MALLOC_* */
	__u32 _pad;
};

_Static_assert(sizeof(struct malloc_record) == 64 + 32, "mirrored in Java");

/* A sampled allocation not freed yet, in the `live` map by address: what the leak report reads. */
struct live_allocation {
	__u64 ns;         /* when it was allocated */
	__u64 bytes;      /* bytes asked for */
	__u64 weight;
	__u64 user_stack; /* key in user_stacks */
	__u32 tid;
	__u32 function;
};

_Static_assert(sizeof(struct live_allocation) == 40, "mirrored in Java");

#define LIVE_MAX_ENTRIES (256 * 1024)

#endif
