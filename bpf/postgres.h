/* SPDX-License-Identifier: Apache-2.0 */
/* Records and maps of postgres.bpf.c shared with Java (PostgresRecord, PostgresProbe; checked by LayoutTest). */
#ifndef JFR_EBPF_POSTGRES_H
#define JFR_EBPF_POSTGRES_H

#include "common.h"
#include "tcp.h"

/* Bytes of query text kept, with its NUL; a longer text is cut and flagged PG_FLAG_TRUNCATED. */
#define PG_QUERY_MAX 2048

/* protocol of a query */
#define PG_PROTOCOL_SIMPLE 1   /* a Query message: query__start .. query__done (psql, Statement without parameters in some drivers) */
#define PG_PROTOCOL_EXTENDED 2 /* Parse/Bind/Execute: the first of parse, plan or execute .. query__execute__done (JDBC) */

/* flags of a query */
#define PG_FLAG_TRUNCATED 1 /* the text was longer than PG_QUERY_MAX - 1 bytes */
#define PG_FLAG_FAILED 2    /* the transaction aborted before the query completed: duration until the abort */

/* One statement a backend serving one of our connections ran, as the server timed it. Sent
 * without the unused end of query: the record is offsetof(query) + query_len + 1 bytes, rounded up to 8. */
struct pg_query_record {
	struct event_header header; /* start/duration: the server's; thread and stack: our thread whose send on the
				       backend's connection carried the query (tid 0: none seen) */
	__u64 lock_wait_ns;         /* time the backend waited for heavyweight locks during the query */
	__u32 backend_pid;
	__u32 protocol;             /* PG_PROTOCOL_* */
	__u32 flags;                /* PG_FLAG_* */
	__u32 query_len;            /* bytes of text in query, without the NUL */
	char query[PG_QUERY_MAX];   /* NUL-terminated, literals included: the agent redacts them */
};

_Static_assert(sizeof(struct pg_query_record) == 64 + 24 + PG_QUERY_MAX, "mirrored in Java");

/*
 * A backend we follow, by its pid: written by the agent when it attaches (debug_query_string
 * only, the rest zero), then kept up to date by the probes.
 */
struct pg_backend {
	__u64 debug_query_string; /* address, in the backend, of PostgreSQL's global `const char *debug_query_string` */
	__u64 start_ns;           /* the current query began; 0: none in progress */
	__u64 lock_start_ns;
	__u64 lock_wait_ns;
	__u32 simple;             /* inside query__start .. query__done */
	__u32 exec_depth;         /* nesting of PortalRun (query__execute__start .. done) */
	__u32 flags;
	__u32 query_len;
	/*
	 * A query that completed before the send that carried it was seen (sock_send_length fires
	 * at the end of the send, and on loopback the backend can run the statement before that):
	 * kept here, text in query, until that send names its thread. pending_end_ns != 0: one is.
	 */
	__u64 pending_end_ns;
	__u64 pending_start_ns;
	__u64 pending_lock_wait_ns;
	__u32 pending_protocol;
	__u32 pending_flags;
	char query[PG_QUERY_MAX];
};

_Static_assert(sizeof(struct pg_backend) == 80 + PG_QUERY_MAX, "mirrored in Java");

/*
 * The BPF cookie of each USDT site pg_usdt is attached to: which probe, and where its first
 * argument is, as the site's note says (x86_64: "8@%rdi" a register, "8@-144(%rbp)" memory at a
 * register plus an offset). Built by the agent (UsdtArgument, PostgresProbe).
 */
#define PG_QUERY_START 1
#define PG_QUERY_DONE 2
#define PG_QUERY_PARSE_START 3
#define PG_QUERY_PLAN_START 4
#define PG_QUERY_EXECUTE_START 5
#define PG_QUERY_EXECUTE_DONE 6
#define PG_LOCK_WAIT_START 7
#define PG_LOCK_WAIT_DONE 8
#define PG_TRANSACTION_ABORT 9

#define PG_ARG_NONE 0     /* not given, or a form not read (a constant, %rip-relative) */
#define PG_ARG_REGISTER 1 /* the value of a register */
#define PG_ARG_MEMORY 2   /* 8 bytes at a register's value plus a displacement */

#define PG_PROBE(cookie) ((__u32)((cookie) & 0xff))
#define PG_ARG_KIND(cookie) ((__u32)(((cookie) >> 8) & 0xff))
#define PG_ARG_REG_OFFSET(cookie) ((__u32)(((cookie) >> 16) & 0xffff)) /* offset in struct pt_regs */
#define PG_ARG_DISPLACEMENT(cookie) ((__s32)((cookie) >> 32))

/* Key of pg_conns: our end of a connection to a followed backend (the value is the backend's pid). */
#define pg_conn_key tcp_endpoints

#endif
