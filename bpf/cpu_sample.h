/* SPDX-License-Identifier: Apache-2.0 */
/* Records of cpu_sample.bpf.c, mirrored in Java by CpuSampleRecord. */
#ifndef JFR_EBPF_CPU_SAMPLE_H
#define JFR_EBPF_CPU_SAMPLE_H

#include "common.h"

/* cpu_sample_record.state */
#define CPU_STATE_USER 0
#define CPU_STATE_KERNEL 1

/* One cpu-clock tick that found one of our threads on a CPU. */
struct cpu_sample_record {
	struct event_header header;
	__u32 cpu;
	__u32 state; /* CPU_STATE_USER or CPU_STATE_KERNEL: where the tick interrupted the thread */
};

_Static_assert(sizeof(struct cpu_sample_record) == 64 + 8, "mirrored in Java");

#endif
