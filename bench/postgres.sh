#!/usr/bin/env bash
# The PostgreSQL benchmark: a PostgreSQL 15 cluster of its own (out/bench/pg, loopback only,
# trust auth), JDBC throughput with no agent, the postgres probe, the default probes and
# async-profiler, interleaved; pgbench as another client of the same server; how soon new
# connections are followed. Usage: bench/postgres.sh [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
source scripts/pg-cluster.sh
pg=$out/pg
port=${PGBENCH_PORT:-54399}
trap 'pg_cluster_stop "$pg"' EXIT
pg_cluster_start "$pg" "$port"
runuser -u postgres -- "$pg_bin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$port" postgres >/dev/null 2>&1
java -cp bench/target/classes:agent/target/jfr-ebpf-agent.jar io.jfrebpf.bench.PostgresBench agent/target/jfr-ebpf-agent.jar bench/target/classes \
  bench/target/peer/postgresql.jar "$out" "$port" "${1:-3}" "${2:-5}" "$out/libasyncProfiler.so"
