/* SPDX-License-Identifier: Apache-2.0 */
/* Records and maps of syscall_latency.bpf.c, mirrored in Java by SyscallLatencyRecord / SyscallStats. */
#ifndef JFR_EBPF_SYSCALL_LATENCY_H
#define JFR_EBPF_SYSCALL_LATENCY_H

#include "common.h"

/* Syscall numbers at or above this are counted in the last slot (x86_64 tops out near 470). */
#define SYSCALL_MAX_NR 512
/* log2 histogram of durations in ns: bucket i holds [2^i, 2^(i+1)) ns, bucket 0 also holds 0 */
#define SYSCALL_HIST_BUCKETS 40

/* One syscall of our process that took at least min_duration_ns. */
struct syscall_latency_record {
	struct event_header header;
	__s64 result;   /* the raw return value: -errno on failure */
	__u32 number;   /* syscall number */
	__u32 _pad;
};

_Static_assert(sizeof(struct syscall_latency_record) == 80, "mirrored in Java");

/* Per syscall number and per CPU, since the probe was loaded: every call counted. */
struct syscall_stats {
	__u64 count;
	__u64 errors;
	__u64 total_ns;
	__u64 max_ns;
	__u64 histogram[SYSCALL_HIST_BUCKETS];
};

_Static_assert(sizeof(struct syscall_stats) == 32 + 8 * SYSCALL_HIST_BUCKETS, "mirrored in Java");

#endif
