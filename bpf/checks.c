/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the generated layouts (bpf/gen/Skeletons.java) cannot prove: the BPF cookie the agent
 * builds for a USDT site (PostgresProbe.cookie) decodes, with the macros postgres.bpf.c uses,
 * to the probe and argument it meant. Printed as a properties file that LayoutTest (agent/)
 * compares with the Java encoder.
 */
#include <stdio.h>
#include "postgres.h"

int main(void)
{
	/* a cookie as the agent builds it (probe 7, 8 bytes at %rbp - 144), decoded by the macros the program uses */
	printf("pg_cookie_sample.value=%lld\n", (long long)0xffffff7000200207ull);
	printf("pg_cookie_sample.probe=%u\n", PG_PROBE(0xffffff7000200207ull));
	printf("pg_cookie_sample.kind=%u\n", PG_ARG_KIND(0xffffff7000200207ull));
	printf("pg_cookie_sample.reg_offset=%u\n", PG_ARG_REG_OFFSET(0xffffff7000200207ull));
	printf("pg_cookie_sample.displacement=%d\n", PG_ARG_DISPLACEMENT(0xffffff7000200207ull));
	return 0;
}
