// SPDX-License-Identifier: Apache-2.0
/*
 * postgres: the statements that PostgreSQL backends serving our connections run, timed by the
 * server, each joined to the Java thread and stack of ours that sent it.
 *
 * The agent finds the backends (a postgres process holding the other end of one of our TCP
 * connections) and attaches `pg_usdt` to each of them by pid, at every site of the USDT probes
 * below: no other backend, and no other client's query, ever traps. One program for all the
 * probes, so that a backend costs one uprobe_multi link (its detach waits for one RCU grace
 * period, not one per probe); the BPF cookie of each site says which probe it is and where its
 * first argument is (postgres.h). Each backend's state is one `backends` entry.
 *
 *   query__start / query__done        the simple protocol (a Query message: psql, SET ...), text = arg0
 *   query__parse__start               the extended protocol (JDBC) parses a statement: a query begins, text = arg0
 *   query__plan__start                planning at Bind: a query begins unless parse already began it
 *   query__execute__start / done      PortalRun: the outermost one is the query of the extended protocol
 *                                     (its text from debug_query_string, which PostgreSQL points at the
 *                                     statement's source also for a named statement parsed long ago);
 *                                     inside the simple protocol it is only counted
 *   lock__wait__start / done          heavyweight lock waits, summed into the query
 *   transaction__abort                the query failed: it is reported with PG_FLAG_FAILED
 *
 *   sock_send_length                  (tracepoint, our threads only) the thread and stack that last sent on
 *                                     each connection to a followed backend: the query's eventThread/stack.
 *                                     It fires at the end of the send: a query the backend completed while
 *                                     the send that carried it was still under way (our end had queued
 *                                     more than the last send seen) waits in its backend's entry for it
 *   inet_sock_set_state (pg_connect)  only without the tcp probe, which tells the agent of our connects
 *                                     itself: our connects to a PostgreSQL port (pg_ports, written by the
 *                                     agent), from SYN_SENT on a thread of ours to ESTABLISHED, sent as our
 *                                     end of the connection to `connects`, so that its backend is found at once
 */
#include "common.bpf.h"
#include "stack.bpf.h"
#include "sock.bpf.h"
#include "postgres.h"

char LICENSE[] SEC("license") = "GPL";

/* Backends followed at once; the agent counts the others as not followed. */
#define PG_BACKENDS_MAX 128

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PG_BACKENDS_MAX);
	__type(key, __u32); /* the backend's pid */
	__type(value, struct pg_backend);
} backends SEC(".maps");

/* Our end of each followed connection -> the backend's pid (written by the agent). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PG_BACKENDS_MAX);
	__type(key, struct pg_conn_key);
	__type(value, __u32);
} pg_conns SEC(".maps");

struct sender {
	__u64 ns;
	__u64 user_stack;
	__u32 tid;
	__u32 write_seq; /* our end's tcp_sock.write_seq after the send: all it had queued on the connection */
	char comm[TASK_COMM_LEN];
	__u64 java_thread_id; /* mounted on tid then: virtual threads share their carriers (mounted.bpf.h) */
	__u64 sk;             /* our end's struct sock */
};

/* The last of our threads to send on a followed connection, by backend pid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PG_BACKENDS_MAX);
	__type(key, __u32);
	__type(value, struct sender);
} senders SEC(".maps");

/* records carry their text only: ~150 bytes for a short statement, 2,128 at most */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

/* include/net/tcp_states.h */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

/* The ports PostgreSQL servers of this host listen on (written by the agent). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u8);
} pg_ports SEC(".maps");

/* Our connects to such a port in progress, by socket address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} connecting SEC(".maps");

/* Our end of each connect that completed (struct tcp_endpoints): a few a second at most. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 4096);
} connects SEC(".maps");

/* A record is built here (2 KB would not fit the BPF stack) and sent with its text only. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pg_query_record);
} scratch SEC(".maps");

static __always_inline struct pg_backend *current_backend(__u32 *pid)
{
	*pid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&backends, pid);
}

/* Keeps a query's text from the backend's memory; flags it when longer than PG_QUERY_MAX - 1 bytes. */
static __always_inline void keep_text(struct pg_backend *b, const char *text)
{
	b->flags &= ~PG_FLAG_TRUNCATED;
	b->query_len = 0;
	b->query[0] = 0;
	if (!text)
		return;
	long n = bpf_probe_read_user_str(b->query, sizeof(b->query), text);
	if (n <= 0) {
		b->query[0] = 0;
		return;
	}
	b->query_len = n - 1;
	if (n == sizeof(b->query)) {
		char next = 0;
		bpf_probe_read_user(&next, 1, text + sizeof(b->query) - 1);
		if (next)
			b->flags |= PG_FLAG_TRUNCATED;
	}
}

/*
 * Sends a query that completed, as the server timed it, with the thread and stack of the send
 * that carried it (s; NULL: none seen). The record is built in a per-CPU scratch and sent with
 * its text only (bpf_ringbuf_output of a bounded length): most statements are far shorter than
 * PG_QUERY_MAX, and at tens of thousands of queries a second fixed 2 KB records filled the ring.
 */
static __always_inline void emit(struct pg_backend *b, __u32 pid, const struct sender *s, __u64 start_ns, __u64 end_ns,
				 __u64 lock_wait, __u32 protocol, __u32 flags)
{
	__u32 zero = 0;
	struct pg_query_record *r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return;
	struct event_header *h = &r->header;
	h->timestamp_ns = start_ns;
	h->duration_ns = end_ns - start_ns;
	h->pid = targ_tgid;
	h->kernel_stack_id = NO_STACK;
	h->_pad = 0;
	if (s) {
		h->tid = s->tid;
		h->user_stack = s->user_stack;
		__builtin_memcpy(h->comm, s->comm, sizeof(h->comm));
		h->java_thread_id = s->java_thread_id;
	} else {
		h->tid = 0;
		h->user_stack = NO_USER_STACK;
		__builtin_memset(h->comm, 0, sizeof(h->comm));
		h->java_thread_id = 0;
	}
	r->lock_wait_ns = lock_wait;
	r->backend_pid = pid;
	r->protocol = protocol;
	r->flags = flags;
	__u32 len = b->query_len;
	if (len > PG_QUERY_MAX - 1)
		len = PG_QUERY_MAX - 1;
	r->query_len = len;
	__u32 text = len + 1;
	if (text > PG_QUERY_MAX)
		text = PG_QUERY_MAX;
	bpf_probe_read_kernel(r->query, text, b->query);
	__u64 size = (offsetof(struct pg_query_record, query) + text + 7) & ~7ull;
	if (size > sizeof(*r))
		size = sizeof(*r);
	if (bpf_ringbuf_output(&events, r, size, ringbuf_wakeup_flags(&events)))
		count_lost();
}

/*
 * Whether our end of the connection has queued bytes that the last send seen had not: a send is
 * under way whose sock_send_length has not fired yet. It fires at the end of the send; on
 * loopback the data reaches the backend inside the send, and a backend woken onto the sender's
 * CPU can run the whole statement before the sender goes on. The query is then that send's, not
 * the last sender's (on a pool shared by virtual threads, another thread's).
 */
static __always_inline bool send_under_way(const struct sender *s)
{
	if (!s->sk)
		return false;
	struct tcp_sock *tp = (struct tcp_sock *)s->sk;
	__u32 queued = BPF_CORE_READ(tp, write_seq);
	return queued != s->write_seq;
}

/* Sends the pending query with this sender unless someone else did: the backend and our sender race for it, the claim is atomic. */
static __always_inline void flush_pending(struct pg_backend *b, __u32 pid, const struct sender *s)
{
	__u64 end = __sync_lock_test_and_set(&b->pending_end_ns, 0);
	if (end)
		emit(b, pid, s, b->pending_start_ns, end, b->pending_lock_wait_ns, b->pending_protocol, b->pending_flags);
}

static __always_inline void begin(struct pg_backend *b, __u32 pid, __u64 now)
{
	/* a query still waiting for its send: the backend has new work, so that send is over and recorded */
	if (b->pending_end_ns)
		flush_pending(b, pid, bpf_map_lookup_elem(&senders, &pid));
	b->start_ns = now;
	b->lock_wait_ns = 0;
	b->lock_start_ns = 0;
	b->flags &= ~PG_FLAG_FAILED;
}

/* The query that just completed: sent now with its sender, or kept until the send that carried it is seen. */
static __always_inline void report(struct pg_backend *b, __u32 pid, __u32 protocol, __u32 extra_flags, __u64 now)
{
	if (!b->start_ns)
		return;
	__u64 lock_wait = b->lock_wait_ns;
	if (b->lock_start_ns)
		lock_wait += now - b->lock_start_ns; /* still waiting when the query failed */
	__u32 flags = (b->flags & PG_FLAG_TRUNCATED) | extra_flags;
	__u64 start = b->start_ns;
	b->start_ns = 0;
	b->lock_start_ns = 0;
	struct sender *s = bpf_map_lookup_elem(&senders, &pid);
	if (!s || !send_under_way(s)) {
		emit(b, pid, s, start, now, lock_wait, protocol, flags);
		return;
	}
	b->pending_start_ns = start;
	b->pending_lock_wait_ns = lock_wait;
	b->pending_protocol = protocol;
	b->pending_flags = flags;
	/* published with a full barrier, then the sender read again: the send may have ended meanwhile
	 * without seeing it (sock_send_length records its sender, then looks for a pending query) */
	__sync_lock_test_and_set(&b->pending_end_ns, now);
	s = bpf_map_lookup_elem(&senders, &pid);
	if (s && !send_under_way(s))
		flush_pending(b, pid, s);
}

static __always_inline int query_start(const char *query)
{
	__u32 pid;
	struct pg_backend *b = current_backend(&pid);
	if (!b)
		return 0;
	begin(b, pid, bpf_ktime_get_ns());
	b->simple = 1;
	b->exec_depth = 0;
	keep_text(b, query);
	return 0;
}

static __always_inline int query_done(void)
{
	__u32 pid;
	struct pg_backend *b = current_backend(&pid);
	if (!b || !b->simple)
		return 0;
	b->simple = 0;
	report(b, pid, PG_PROTOCOL_SIMPLE, 0, bpf_ktime_get_ns());
	return 0;
}

static __always_inline int query_parse_start(const char *query)
{
	__u32 pid;
	struct pg_backend *b = current_backend(&pid);
	if (!b || b->simple || b->exec_depth)
		return 0; /* the simple protocol parses its own text; nested: a function's SQL */
	begin(b, pid, bpf_ktime_get_ns());
	keep_text(b, query);
	return 0;
}

static __always_inline int query_plan_start(void)
{
	__u32 pid;
	struct pg_backend *b = current_backend(&pid);
	if (!b || b->simple || b->exec_depth || b->start_ns)
		return 0;
	begin(b, pid, bpf_ktime_get_ns()); /* Bind of a statement parsed earlier: planning is the first step */
	return 0;
}

static __always_inline int query_execute_start(void)
{
	__u32 pid;
	struct pg_backend *b = current_backend(&pid);
	if (!b)
		return 0;
	if (!b->simple && b->exec_depth == 0) {
		if (!b->start_ns)
			begin(b, pid, bpf_ktime_get_ns());
		const char *text = NULL;
		if (b->debug_query_string)
			bpf_probe_read_user(&text, sizeof(text), (const void *)b->debug_query_string);
		if (text)
			keep_text(b, text);
	}
	if (b->exec_depth < 64)
		b->exec_depth++;
	return 0;
}

static __always_inline int query_execute_done(void)
{
	__u32 pid;
	struct pg_backend *b = current_backend(&pid);
	if (!b || !b->exec_depth)
		return 0;
	b->exec_depth--;
	if (!b->simple && b->exec_depth == 0)
		report(b, pid, PG_PROTOCOL_EXTENDED, 0, bpf_ktime_get_ns());
	return 0;
}

static __always_inline int lock_wait_start(void)
{
	__u32 pid;
	struct pg_backend *b = current_backend(&pid);
	if (b && b->start_ns)
		b->lock_start_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int lock_wait_done(void)
{
	__u32 pid;
	struct pg_backend *b = current_backend(&pid);
	if (!b || !b->lock_start_ns)
		return 0;
	b->lock_wait_ns += bpf_ktime_get_ns() - b->lock_start_ns;
	b->lock_start_ns = 0;
	return 0;
}

static __always_inline int transaction_abort(void)
{
	__u32 pid;
	struct pg_backend *b = current_backend(&pid);
	if (!b)
		return 0;
	__u32 protocol = b->simple ? PG_PROTOCOL_SIMPLE : PG_PROTOCOL_EXTENDED;
	b->simple = 0;
	b->exec_depth = 0;
	report(b, pid, protocol, PG_FLAG_FAILED, bpf_ktime_get_ns());
	return 0;
}

/* The probe's first argument, where the cookie says it is: a register, or memory at a register plus an offset. */
static __always_inline __u64 first_argument(struct pt_regs *ctx, __u64 cookie)
{
	__u32 kind = PG_ARG_KIND(cookie);
	__u32 reg = PG_ARG_REG_OFFSET(cookie);
	__u64 value = 0;
	if (kind == PG_ARG_NONE || reg > sizeof(struct pt_regs) - sizeof(__u64))
		return 0;
	bpf_probe_read_kernel(&value, sizeof(value), (void *)ctx + reg);
	if (kind == PG_ARG_MEMORY) {
		__u64 at = value + (__s64)PG_ARG_DISPLACEMENT(cookie);
		value = 0;
		bpf_probe_read_user(&value, sizeof(value), (const void *)at);
	}
	return value;
}

SEC("uprobe")
int pg_usdt(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	switch (PG_PROBE(cookie)) {
	case PG_QUERY_START:
		return query_start((const char *)first_argument(ctx, cookie));
	case PG_QUERY_DONE:
		return query_done();
	case PG_QUERY_PARSE_START:
		return query_parse_start((const char *)first_argument(ctx, cookie));
	case PG_QUERY_PLAN_START:
		return query_plan_start();
	case PG_QUERY_EXECUTE_START:
		return query_execute_start();
	case PG_QUERY_EXECUTE_DONE:
		return query_execute_done();
	case PG_LOCK_WAIT_START:
		return lock_wait_start();
	case PG_LOCK_WAIT_DONE:
		return lock_wait_done();
	case PG_TRANSACTION_ABORT:
		return transaction_abort();
	}
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length, struct sock *sk, int ret, int flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (ret <= 0 || !is_target(pid_tgid) || !is_tcp(sk))
		return 0;
	struct pg_conn_key key;
	read_endpoints(&key, sk);
	__u32 *backend = bpf_map_lookup_elem(&pg_conns, &key);
	if (!backend)
		return 0;
	struct sender s = {.ns = bpf_ktime_get_ns(), .tid = ns_tid_current(), .java_thread_id = mounted_thread_id(), .sk = (__u64)sk};
	s.write_seq = BPF_CORE_READ((struct tcp_sock *)sk, write_seq);
	s.user_stack = current_user_stack(STACK_SLOT_TASK);
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	__u32 pid = *backend;
	bpf_map_update_elem(&senders, &pid, &s, BPF_ANY);
	/* a query the backend completed before this send ended is this send's: looked for with an
	 * atomic read (a full barrier after the update above), which the backend's publishing pairs with */
	struct pg_backend *b = bpf_map_lookup_elem(&backends, &pid);
	if (b && __sync_val_compare_and_swap(&b->pending_end_ns, 0, 0))
		flush_pending(b, pid, &s);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(pg_connect, const struct sock *sk, const int oldstate, const int newstate)
{
	if (!is_tcp(sk))
		return 0;
	__u64 key = (__u64)sk;
	if (newstate == TCP_SYN_SENT) {
		/* connect(): the calling thread is the current task, the remote port is set */
		if (!is_target(bpf_get_current_pid_tgid()))
			return 0;
		__u32 port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		__u8 one = 1;
		if (bpf_map_lookup_elem(&pg_ports, &port))
			bpf_map_update_elem(&connecting, &key, &one, BPF_ANY);
		return 0;
	}
	if (newstate != TCP_ESTABLISHED && newstate != TCP_CLOSE)
		return 0;
	/* in softirq, on whatever task: the socket says whether it is ours */
	if (!bpf_map_lookup_elem(&connecting, &key))
		return 0;
	bpf_map_delete_elem(&connecting, &key);
	if (newstate != TCP_ESTABLISHED)
		return 0;
	struct tcp_endpoints *e = bpf_ringbuf_reserve(&connects, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	read_endpoints(e, sk);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* the records Java reads, for their generated layout */
BTF_EXPORT(pg_query_record)
BTF_EXPORT(pg_backend)
BTF_EXPORT(tcp_endpoints)
