/* SPDX-License-Identifier: Apache-2.0 */
/* Records of tcp.bpf.c, mirrored in Java by TcpRecord (checked by LayoutTest). */
#ifndef JFR_EBPF_TCP_H
#define JFR_EBPF_TCP_H

#include "common.h"

/* What a record says; one ring buffer carries them all. */
#define TCP_RECORD_CONNECT 1    /* an outbound connect completed or failed: duration = connect() to established */
#define TCP_RECORD_ACCEPT 2     /* a thread of ours accepted a connection: where it was opened (no event of its own) */
#define TCP_RECORD_CLOSE 3      /* a connection of ours closed: counters at the close */
#define TCP_RECORD_RETRANSMIT 4 /* one segment retransmitted: thread/stack = the socket's last writer */
#define TCP_RECORD_OPEN 5       /* still open when the recording ends (written by the iterator) */

/* direction of a connection */
#define TCP_OUTBOUND 1 /* we connected */
#define TCP_ACCEPTED 2 /* we accepted */

/* error of a CONNECT closed by the application before the handshake completed (no socket error) */
#define TCP_ERROR_CLOSED_BEFORE_ESTABLISHED (-1)

struct tcp_endpoints {
	__u8 local_addr[16];  /* AF_INET: the first 4 bytes */
	__u8 remote_addr[16];
	__u16 local_port;     /* host byte order */
	__u16 remote_port;    /* host byte order */
	__u16 family;         /* AF_INET 2, AF_INET6 10 */
	__u16 _pad;
};

_Static_assert(sizeof(struct tcp_endpoints) == 40, "mirrored in Java");

struct tcp_record {
	struct event_header header; /* thread, stacks: the opener (connect/accept), or the last writer (retransmit) */
	__u64 sock;                 /* kernel address of the socket: joins the records of one connection */
	__u64 open_ns;              /* connect() began, or the handshake of an accepted connection completed */
	__u32 kind;                 /* TCP_RECORD_* */
	__s32 error;                /* CONNECT: 0, an errno, or TCP_ERROR_CLOSED_BEFORE_ESTABLISHED */
	__u32 state;                /* TCP state (TCP_ESTABLISHED 1 ...) at a retransmit or at the end */
	__u32 retransmits;          /* segments retransmitted so far (tcp_sock.total_retrans) */
	struct tcp_endpoints endpoints;
	__u64 bytes_sent;           /* payload bytes sent, each once (bytes_sent - bytes_retrans: no SYN/FIN) */
	__u64 bytes_received;       /* payload bytes received (bytes_received without the FIN) */
	__u32 segments_out;         /* RETRANSMIT: the segments this retransmission resent */
	__u32 segments_in;
	__u32 srtt_us;              /* smoothed round-trip time, microseconds */
	__u32 direction;            /* TCP_OUTBOUND or TCP_ACCEPTED */
};

_Static_assert(sizeof(struct tcp_record) == 64 + 32 + 40 + 32, "mirrored in Java");

#endif
