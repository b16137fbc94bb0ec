/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a TCP socket's identity (kernel side only): shared by tcp.bpf.c and postgres.bpf.c. */
#ifndef JFR_EBPF_SOCK_BPF_H
#define JFR_EBPF_SOCK_BPF_H

#include "common.bpf.h"
#include <bpf/bpf_endian.h>
#include "tcp.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

static __always_inline bool is_tcp(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP && (family == AF_INET || family == AF_INET6);
}

static __always_inline void read_endpoints(struct tcp_endpoints *e, const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__builtin_memset(e, 0, sizeof(*e));
	e->family = family;
	/* inet_sport, not skc_num: the close gives the port back (inet_put_port zeroes skc_num) before
	 * the state changes, and a connect changes the state before it picks the port */
	e->local_port = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	e->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		bpf_core_read(e->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->remote_addr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

#endif
