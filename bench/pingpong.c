/* Another process on the host that context-switches all the time: two processes pass a byte
 * back and forth over pipes. Prints the best of `rounds` timings of `n` round trips, in ns per
 * round trip (each is two context switches): what the off-CPU probe's sched_switch program costs
 * a process that is not ours. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include "clock.h"
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	int ping[2], pong[2];
	if (pipe(ping) || pipe(pong))
		return 1;
	pid_t child = fork();
	if (child < 0)
		return 1;
	char c = 0;
	if (child == 0) {
		close(ping[1]);
		close(pong[0]);
		while (read(ping[0], &c, 1) == 1)
			if (write(pong[1], &c, 1) != 1)
				return 1;
		return 0;
	}
	close(ping[0]);
	close(pong[1]);
	double best = 1e18;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ns();
		for (long i = 0; i < n; i++) {
			if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
				return 1;
		}
		double per = (now_ns() - t0) / n;
		if (per < best)
			best = per;
	}
	close(ping[1]);
	waitpid(child, NULL, 0);
	printf("%.1f\n", best);
	return 0;
}
