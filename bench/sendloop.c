/* Another process on the host that sends on sockets all the time: datagrams over a Unix socket
 * pair, each send and receive a syscall. Prints the best of `rounds` timings of `n` sends, in ns
 * per send+receive: what the tcp probe's sock_send_length program (it runs at every socket send
 * on the host, and returns at once for other processes) costs a process that is not ours. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "clock.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 500000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return 1;
	char buf[64] = {0};
	double best = 1e18;
	for (int r = 0; r < rounds; r++) {
		double start = now_ns();
		for (long i = 0; i < n; i++) {
			if (send(sv[0], buf, sizeof(buf), 0) != sizeof(buf) || recv(sv[1], buf, sizeof(buf), 0) != sizeof(buf))
				return 1;
		}
		double ns = (now_ns() - start) / n;
		if (ns < best)
			best = ns;
	}
	printf("%.1f\n", best);
	return 0;
}
