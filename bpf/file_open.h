/* SPDX-License-Identifier: Apache-2.0 */
/* Records of file_open.bpf.c, mirrored in Java by FileOpenRecord. */
#ifndef JFR_EBPF_FILE_OPEN_H
#define JFR_EBPF_FILE_OPEN_H

#include "common.h"

/* PATH_MAX: the kernel refuses longer paths (ENAMETOOLONG), so a valid path always fits. */
#define FILE_PATH_MAX 4096

#define FILE_OPEN_TRUNCATED 1u      /* the path filled the buffer without its terminating NUL */
#define FILE_OPEN_ERRNO_UNKNOWN 2u  /* libc returned -1 but its errno could not be read: result is -1 */

/* AT_FDCWD as the dirfd of open()/creat(), whose paths are relative to the cwd */
#define FILE_OPEN_AT_FDCWD (-100)

struct file_open_record {
	struct event_header header;
	__s64 result;      /* fd, or -errno */
	__s32 dirfd;       /* FILE_OPEN_AT_FDCWD or the directory fd of openat/openat2 */
	__u32 flags;       /* open flags (O_*); creat() reports O_CREAT|O_WRONLY|O_TRUNC */
	__u32 mode;
	__u32 path_flags;  /* FILE_OPEN_TRUNCATED */
	__u32 path_len;    /* bytes of path, without the NUL */
	__u32 _pad;
	char path[FILE_PATH_MAX]; /* only path_len bytes (+ NUL) are sent: records are variable-length */
};

_Static_assert(sizeof(struct file_open_record) == 64 + 32 + FILE_PATH_MAX, "mirrored in Java");

#endif
