// SPDX-License-Identifier: Apache-2.0
/*
 * tcp: the TCP connections of our process, as tcpconnlat, tcplife and tcpretrans see them,
 * each with the Java thread and stack that opened it (connect or accept) or last wrote to it.
 *
 * TCP's tracepoints fire in softirq on whatever task is running, so nothing here trusts the
 * current task after the socket is known: every connection is kept by socket address in
 * `conns`, entered only by a thread of ours (connect() makes it SYN_SENT on the calling
 * thread; accept() hands it to the calling thread), and later events look the socket up.
 * Counters are read from the socket at the close (and at the end of the recording, by the
 * iterator), not counted per packet.
 *
 *   inet_sock_set_state   CLOSE->SYN_SENT: a connect of ours begins; ->ESTABLISHED: it completed
 *                         (CONNECT); ->CLOSE: CONNECT with its error, or the connection ended
 *                         (CLOSE with its counters); LISTEN: our listening ports, so that the
 *                         handshake of an accepted connection can be timed
 *   uretprobe accept      (libc accept/accept4, our pid only) the accepting thread and stack
 *   sock_send_length      the thread and stack writing to a socket of ours, re-walked at most
 *                         every WRITER_REFRESH_NS per socket: walking on every send would cost
 *                         more than the send
 *   tcp_retransmit_skb    RETRANSMIT, attributed to the last writer
 *   iter/tcp              at the end: the connections still open, with their counters
 */
#include "common.bpf.h"
#include "stack.bpf.h"
#include <bpf/bpf_endian.h>
#include "tcp.h"
#include "sock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define SOCK_STREAM 1

/* include/net/tcp_states.h */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7
#define TCP_LISTEN 10

#define WRITER_REFRESH_NS 100000000ull /* 100 ms */

/* Who: a thread of ours at a moment, with the stacks it had then. */
struct origin {
	__u64 ns;
	__u64 user_stack;
	__s32 kernel_stack_id;
	__u32 tid;
	char comm[TASK_COMM_LEN];
	__u64 java_thread_id; /* mounted on tid then (mounted.bpf.h) */
};

struct conn {
	__u64 open_ns;
	__u64 established_ns; /* 0 while an outbound connect is in progress */
	__u32 direction;      /* TCP_OUTBOUND or TCP_ACCEPTED */
	__u32 _pad;
	struct origin opener;
	struct origin writer; /* writer.ns == 0: nobody wrote yet */
};

/* Every connection of ours, by socket address. Not LRU: a connection is never forgotten
 * silently; when the map is full a new one is counted lost. */
#define CONNS_MAX_ENTRIES 65536

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONNS_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct conn);
} conns SEC(".maps");

/* Our listening sockets, by network namespace and port. */
struct listener_key {
	__u32 netns;
	__u32 port;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct listener_key);
	__type(value, __u8);
} listeners SEC(".maps");

/* Handshakes completed on our listening ports, not accepted yet: when each completed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u64);
} handshakes SEC(".maps");

/* 1 MB: a service opening 10,000 connections a second writes ~5 MB/s of records here */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

/* A record is built here: 160 bytes would crowd the BPF stack of the bigger programs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcp_record);
} iter_scratch SEC(".maps");

static __always_inline __u32 netns_of(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/*
 * The thread and its user stack (Java and native frames). Not the kernel stack: at a connect or
 * a send it always reads the same (the syscall down to tcp_v4_connect or sock_sendmsg), and
 * bpf_get_stackid's unwinding cost 3.6 us per capture on our VM, four times the user walk.
 */
static __always_inline void current_origin(struct origin *o, __u64 pid_tgid, __u64 now)
{
	o->ns = now;
	o->tid = ns_tid_current(); /* reported: the JVM's own thread id */
	o->user_stack = current_user_stack(STACK_SLOT_TASK);
	o->kernel_stack_id = NO_STACK;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	o->java_thread_id = mounted_thread_id();
}

/* The socket's own counters, as the application's bytes: without the SYN and FIN. */
static __always_inline void read_counters(struct tcp_record *r, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	__u64 sent = BPF_CORE_READ(tp, bytes_sent);
	__u64 retrans = BPF_CORE_READ(tp, bytes_retrans);
	__u64 received = BPF_CORE_READ(tp, bytes_received);
	/* bytes_received counts the FIN's sequence number; tcp_fin() marks the socket SOCK_DONE */
	unsigned long flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	if ((flags & (1ul << bpf_core_enum_value(enum sock_flags, SOCK_DONE))) && received > 0)
		received--;
	r->bytes_sent = sent >= retrans ? sent - retrans : 0;
	r->bytes_received = received;
	r->segments_out = BPF_CORE_READ(tp, segs_out);
	r->segments_in = BPF_CORE_READ(tp, segs_in);
	r->retransmits = BPF_CORE_READ(tp, total_retrans);
	r->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
}

static __always_inline void fill_origin(struct event_header *h, const struct origin *o, __u64 start_ns, __u64 end_ns)
{
	h->timestamp_ns = start_ns;
	h->duration_ns = end_ns - start_ns;
	h->pid = targ_tgid;
	h->tid = o->tid;
	h->user_stack = o->user_stack;
	h->kernel_stack_id = o->kernel_stack_id;
	h->_pad = 0;
	__builtin_memcpy(h->comm, o->comm, sizeof(h->comm));
	h->java_thread_id = o->java_thread_id;
}

/* Sends one record about a connection; the caller fills what is specific to its kind. */
static __always_inline struct tcp_record *reserve(__u32 kind, const struct sock *sk, const struct conn *c,
						  const struct origin *o, __u64 start_ns, __u64 end_ns)
{
	struct tcp_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return NULL;
	}
	fill_origin(&r->header, o, start_ns, end_ns);
	r->sock = (__u64)sk;
	r->open_ns = c->open_ns;
	r->direction = c->direction;
	r->kind = kind;
	r->error = 0;
	r->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	r->retransmits = 0;
	read_endpoints(&r->endpoints, sk);
	r->bytes_sent = 0;
	r->bytes_received = 0;
	r->segments_out = 0;
	r->segments_in = 0;
	r->srtt_us = 0;
	return r;
}

static __always_inline void submit(struct tcp_record *r)
{
	bpf_ringbuf_submit(r, ringbuf_wakeup_flags(&events));
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (!is_tcp(sk))
		return 0;
	__u64 key = (__u64)sk;

	if (newstate == TCP_SYN_SENT) {
		/* connect(): the calling thread is the current task */
		__u64 pid_tgid = bpf_get_current_pid_tgid();
		if (!is_target(pid_tgid))
			return 0;
		__u64 now = bpf_ktime_get_ns();
		struct conn c = {.open_ns = now, .direction = TCP_OUTBOUND};
		current_origin(&c.opener, pid_tgid, now);
		if (bpf_map_update_elem(&conns, &key, &c, BPF_ANY))
			count_lost();
		return 0;
	}
	if (newstate == TCP_LISTEN) {
		if (!is_target(bpf_get_current_pid_tgid()))
			return 0;
		struct listener_key l = {.netns = netns_of(sk), .port = BPF_CORE_READ(sk, __sk_common.skc_num)};
		__u8 one = 1;
		bpf_map_update_elem(&listeners, &l, &one, BPF_ANY);
		return 0;
	}
	if (oldstate == TCP_LISTEN) {
		struct listener_key l = {.netns = netns_of(sk), .port = BPF_CORE_READ(sk, __sk_common.skc_num)};
		bpf_map_delete_elem(&listeners, &l);
		return 0;
	}
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
		/* a handshake completed in softirq: ours if it came in on one of our ports */
		struct listener_key l = {.netns = netns_of(sk), .port = BPF_CORE_READ(sk, __sk_common.skc_num)};
		if (bpf_map_lookup_elem(&listeners, &l)) {
			__u64 now = bpf_ktime_get_ns();
			bpf_map_update_elem(&handshakes, &key, &now, BPF_ANY);
		}
		return 0;
	}
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) {
		struct conn *c = bpf_map_lookup_elem(&conns, &key);
		if (!c)
			return 0;
		__u64 now = bpf_ktime_get_ns();
		c->established_ns = now;
		struct tcp_record *r = reserve(TCP_RECORD_CONNECT, sk, c, &c->opener, c->open_ns, now);
		if (r)
			submit(r);
		return 0;
	}
	if (newstate != TCP_CLOSE)
		return 0;
	bpf_map_delete_elem(&handshakes, &key);
	struct conn *c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct tcp_record *r;
	if (c->established_ns == 0) {
		/* the connect failed (refused, timed out, unreachable) or was abandoned */
		r = reserve(TCP_RECORD_CONNECT, sk, c, &c->opener, c->open_ns, now);
		if (r) {
			int err = BPF_CORE_READ(sk, sk_err);
			r->error = err ? err : TCP_ERROR_CLOSED_BEFORE_ESTABLISHED;
		}
	} else {
		r = reserve(TCP_RECORD_CLOSE, sk, c, &c->opener, c->open_ns, now);
		if (r)
			read_counters(r, sk);
	}
	if (r)
		submit(r);
	bpf_map_delete_elem(&conns, &key);
	return 0;
}

/*
 * accept() and accept4() returned a new descriptor: its socket is a connection of ours, opened
 * by this thread. The registers are the caller's at the return address, so the walk starts in
 * the caller (JDK's Net.accept, a native library...).
 */
SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_accept, long rax)
{
	int fd = (int)rax;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (fd < 0 || !is_target(pid_tgid))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	struct socket *so = BPF_CORE_READ(f, private_data);
	if (!so || BPF_CORE_READ(so, type) != SOCK_STREAM)
		return 0;
	struct sock *sk = BPF_CORE_READ(so, sk);
	if (!sk || !is_tcp(sk))
		return 0;
	__u32 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_CLOSE || state == TCP_LISTEN)
		return 0; /* reset before it was accepted: there will be no close to report */
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	__u64 *handshake = bpf_map_lookup_elem(&handshakes, &key);
	struct conn c = {.open_ns = handshake ? *handshake : now, .established_ns = now, .direction = TCP_ACCEPTED};
	if (handshake)
		bpf_map_delete_elem(&handshakes, &key);
	c.opener.ns = now;
	c.opener.tid = ns_tid_current();
	c.opener.user_stack = walk_user_stack(PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx), false, STACK_SLOT_TASK);
	c.opener.kernel_stack_id = NO_STACK;
	bpf_get_current_comm(c.opener.comm, sizeof(c.opener.comm));
	c.opener.java_thread_id = mounted_thread_id();
	if (bpf_map_update_elem(&conns, &key, &c, BPF_ANY)) {
		count_lost();
		return 0;
	}
	struct tcp_record *r = reserve(TCP_RECORD_ACCEPT, sk, &c, &c.opener, c.open_ns, now);
	if (r)
		submit(r);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length, struct sock *sk, int ret, int flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if (ret <= 0 || !is_target(pid_tgid))
		return 0;
	__u64 key = (__u64)sk;
	struct conn *c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	/* the same writer a moment ago: virtual threads share their carriers' tids, so the mounted one decides */
	if (c->writer.ns && now - c->writer.ns < WRITER_REFRESH_NS && c->writer.tid == ns_tid_current() &&
	    c->writer.java_thread_id == mounted_thread_id())
		return 0;
	current_origin(&c->writer, pid_tgid, now);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb, const struct sock *sk, const struct sk_buff *skb, int err)
{
	if (err)
		return 0; /* not sent (local congestion): tcp_sock.total_retrans does not count it either */
	__u64 key = (__u64)sk;
	struct conn *c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct tcp_record *r = reserve(TCP_RECORD_RETRANSMIT, sk, c, c->writer.ns ? &c->writer : &c->opener, now, now);
	if (r) {
		r->retransmits = BPF_CORE_READ((const struct tcp_sock *)sk, total_retrans);
		/* one buffer can carry several segments (GSO): tcp_skb_pcount() */
		__u16 segs = 0;
		bpf_core_read(&segs, sizeof(segs), &((struct tcp_skb_cb *)&skb->cb[0])->tcp_gso_segs);
		r->segments_out = segs ? segs : 1;
		submit(r);
	}
	return 0;
}

/* Run once by the agent at the end: one OPEN record per connection of ours still open. */
SEC("iter/tcp")
int still_open(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	if (!skc)
		return 0;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	__u64 key = (__u64)tp;
	struct conn *c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	__u32 zero = 0;
	struct tcp_record *r = bpf_map_lookup_elem(&iter_scratch, &zero);
	if (!r)
		return 0;
	const struct sock *sk = (const struct sock *)tp;
	__u64 now = bpf_ktime_get_ns();
	fill_origin(&r->header, &c->opener, c->open_ns, now);
	r->sock = key;
	r->open_ns = c->open_ns;
	r->kind = TCP_RECORD_OPEN;
	r->error = 0;
	r->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	read_endpoints(&r->endpoints, sk);
	read_counters(r, sk);
	r->direction = c->direction;
	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}

/* the records Java reads, for their generated layout */
BTF_EXPORT(tcp_record)
BTF_EXPORT(tcp_endpoints)
