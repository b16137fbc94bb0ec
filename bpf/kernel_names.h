/* SPDX-License-Identifier: Apache-2.0 */
/* The one global of kernel_names.bpf.c, read and written by the agent's KernelNames. */
#ifndef JFR_EBPF_KERNEL_NAMES_H
#define JFR_EBPF_KERNEL_NAMES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* kernel addresses named by one run of the program */
#define KERNEL_NAMES_BATCH 64
/* room for "function+0xoffset/0xsize [module]" with its NUL; a longer one is cut, and then not used */
#define KERNEL_NAME_LEN 160

struct kernel_name_batch {
	__u32 count;                                  /* in: how many of pcs to name */
	__u32 _pad;
	__u64 pcs[KERNEL_NAMES_BATCH];                /* in: kernel text addresses */
	__s32 lengths[KERNEL_NAMES_BATCH];            /* out: bpf_snprintf's result for each (length with the NUL, or -errno) */
	char names[KERNEL_NAMES_BATCH][KERNEL_NAME_LEN]; /* out: "%pS" of each pc, NUL-terminated */
};

#endif
