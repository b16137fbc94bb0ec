/* Another process on the host: how many ns one getppid() costs it, while our JVM has its
 * probes attached or not. Prints the best of `rounds` timings of `n` calls (least noise). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include "clock.h"
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double best = 1e18;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		double per = (now_ns() - t0) / n;
		if (per < best)
			best = per;
	}
	printf("%.1f\n", best);
	return 0;
}
