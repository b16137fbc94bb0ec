/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prints sizeof/offsetof of every record shared with Java, as a properties file that
 * LayoutTest (agent/) compares with the Java mirrors: the headers stay the one source
 * of truth and the two sides cannot drift. Add a line here for every new field.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/bpf.h> /* the kernel's struct bpf_prog_info, read by BpfProgram */
#include "common.h"
#include "syscall_latency.h"
#include "file_open.h"
#include "stack.h"
#include "cpu_sample.h"
#include "offcpu.h"
#include "tcp.h"
#include "malloc.h"
#include "sched.h"
#include "postgres.h"

#define SIZE(s) printf(#s ".size=%zu\n", sizeof(struct s))
#define FIELD(s, f) printf(#s "." #f "=%zu\n", offsetof(struct s, f))
#define CONST(c) printf("const." #c "=%ld\n", (long)(c))

int main(void)
{
	SIZE(event_header);
	FIELD(event_header, timestamp_ns);
	FIELD(event_header, duration_ns);
	FIELD(event_header, pid);
	FIELD(event_header, tid);
	FIELD(event_header, user_stack);
	FIELD(event_header, kernel_stack_id);
	FIELD(event_header, comm);
	CONST(TASK_COMM_LEN);
	CONST(NO_STACK);
	CONST(NO_USER_STACK);

	SIZE(user_frame);
	FIELD(user_frame, pc);
	FIELD(user_frame, aux);
	SIZE(user_stack);
	FIELD(user_stack, depth);
	FIELD(user_stack, flags);
	FIELD(user_stack, frames);
	CONST(USER_STACK_MAX_DEPTH);
	CONST(KERNEL_STACK_MAX_DEPTH);
	CONST(USER_STACK_TRUNCATED);
	CONST(USER_STACK_RESUMED);
	printf("const.USER_FRAME_INTERPRETED=%llu\n", (unsigned long long)USER_FRAME_INTERPRETED);

	SIZE(cpu_sample_record);
	FIELD(cpu_sample_record, header);
	FIELD(cpu_sample_record, cpu);
	FIELD(cpu_sample_record, state);
	CONST(CPU_STATE_USER);
	CONST(CPU_STATE_KERNEL);

	SIZE(offcpu_record);
	FIELD(offcpu_record, header);
	FIELD(offcpu_record, state);
	FIELD(offcpu_record, kernel_depth);
	FIELD(offcpu_record, kernel_ips);
	CONST(OFFCPU_KERNEL_MAX);

	SIZE(tcp_record);
	FIELD(tcp_record, header);
	FIELD(tcp_record, sock);
	FIELD(tcp_record, open_ns);
	FIELD(tcp_record, kind);
	FIELD(tcp_record, error);
	FIELD(tcp_record, state);
	FIELD(tcp_record, retransmits);
	FIELD(tcp_record, endpoints);
	FIELD(tcp_record, bytes_sent);
	FIELD(tcp_record, bytes_received);
	FIELD(tcp_record, segments_out);
	FIELD(tcp_record, segments_in);
	FIELD(tcp_record, srtt_us);
	FIELD(tcp_record, direction);
	SIZE(tcp_endpoints);
	FIELD(tcp_endpoints, local_addr);
	FIELD(tcp_endpoints, remote_addr);
	FIELD(tcp_endpoints, local_port);
	FIELD(tcp_endpoints, remote_port);
	FIELD(tcp_endpoints, family);
	CONST(TCP_RECORD_CONNECT);
	CONST(TCP_RECORD_ACCEPT);
	CONST(TCP_RECORD_CLOSE);
	CONST(TCP_RECORD_RETRANSMIT);
	CONST(TCP_RECORD_OPEN);
	CONST(TCP_OUTBOUND);
	CONST(TCP_ACCEPTED);
	CONST(TCP_ERROR_CLOSED_BEFORE_ESTABLISHED);

	SIZE(malloc_record);
	FIELD(malloc_record, header);
	FIELD(malloc_record, address);
	FIELD(malloc_record, bytes);
	FIELD(malloc_record, weight);
	FIELD(malloc_record, function);
	SIZE(live_allocation);
	FIELD(live_allocation, ns);
	FIELD(live_allocation, bytes);
	FIELD(live_allocation, weight);
	FIELD(live_allocation, user_stack);
	FIELD(live_allocation, tid);
	FIELD(live_allocation, function);
	CONST(MALLOC_MALLOC);
	CONST(MALLOC_CALLOC);
	CONST(MALLOC_REALLOC);
	CONST(MALLOC_POSIX_MEMALIGN);
	CONST(MALLOC_ALIGNED_ALLOC);
	CONST(LIVE_MAX_ENTRIES);

	SIZE(runq_record);
	FIELD(runq_record, header);
	FIELD(runq_record, cpu);
	FIELD(runq_record, preempted);

	SIZE(syscall_latency_record);
	FIELD(syscall_latency_record, header);
	FIELD(syscall_latency_record, result);
	FIELD(syscall_latency_record, number);

	SIZE(syscall_stats);
	FIELD(syscall_stats, count);
	FIELD(syscall_stats, errors);
	FIELD(syscall_stats, total_ns);
	FIELD(syscall_stats, max_ns);
	FIELD(syscall_stats, histogram);
	CONST(SYSCALL_MAX_NR);
	CONST(SYSCALL_HIST_BUCKETS);

	SIZE(file_open_record);
	FIELD(file_open_record, header);
	FIELD(file_open_record, result);
	FIELD(file_open_record, dirfd);
	FIELD(file_open_record, flags);
	FIELD(file_open_record, mode);
	FIELD(file_open_record, path_flags);
	FIELD(file_open_record, path_len);
	FIELD(file_open_record, path);
	CONST(FILE_PATH_MAX);
	CONST(FILE_OPEN_TRUNCATED);
	CONST(FILE_OPEN_ERRNO_UNKNOWN);
	CONST(FILE_OPEN_AT_FDCWD);
	SIZE(pg_query_record);
	FIELD(pg_query_record, header);
	FIELD(pg_query_record, lock_wait_ns);
	FIELD(pg_query_record, backend_pid);
	FIELD(pg_query_record, protocol);
	FIELD(pg_query_record, flags);
	FIELD(pg_query_record, query_len);
	FIELD(pg_query_record, query);
	SIZE(pg_backend);
	FIELD(pg_backend, debug_query_string);
	CONST(PG_QUERY_MAX);
	CONST(PG_PROTOCOL_SIMPLE);
	CONST(PG_PROTOCOL_EXTENDED);
	CONST(PG_FLAG_TRUNCATED);
	CONST(PG_FLAG_FAILED);
	CONST(PG_QUERY_START);
	CONST(PG_QUERY_DONE);
	CONST(PG_QUERY_PARSE_START);
	CONST(PG_QUERY_PLAN_START);
	CONST(PG_QUERY_EXECUTE_START);
	CONST(PG_QUERY_EXECUTE_DONE);
	CONST(PG_LOCK_WAIT_START);
	CONST(PG_LOCK_WAIT_DONE);
	CONST(PG_TRANSACTION_ABORT);
	CONST(PG_ARG_NONE);
	CONST(PG_ARG_REGISTER);
	CONST(PG_ARG_MEMORY);
	/* not ours: the kernel's answer to BPF_OBJ_GET_INFO_BY_FD, of which BpfProgram reads one counter */
	FIELD(bpf_prog_info, recursion_misses);

	/* a cookie as the agent builds it (probe 7, 8 bytes at %rbp - 144), decoded by the macros the program uses */
	printf("pg_cookie_sample.value=%lld\n", (long long)0xffffff7000200207ull);
	printf("pg_cookie_sample.probe=%u\n", PG_PROBE(0xffffff7000200207ull));
	printf("pg_cookie_sample.kind=%u\n", PG_ARG_KIND(0xffffff7000200207ull));
	printf("pg_cookie_sample.reg_offset=%u\n", PG_ARG_REG_OFFSET(0xffffff7000200207ull));
	printf("pg_cookie_sample.displacement=%d\n", PG_ARG_DISPLACEMENT(0xffffff7000200207ull));
	return 0;
}
