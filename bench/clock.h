/* The clock of the bench's C loops: CLOCK_MONOTONIC in ns. */
#ifndef JFR_EBPF_BENCH_CLOCK_H
#define JFR_EBPF_BENCH_CLOCK_H

#include <time.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#endif
