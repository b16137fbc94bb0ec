#!/usr/bin/env bash
# The PostgreSQL benchmark: a PostgreSQL 15 cluster of its own (out/bench/pg, loopback only,
# trust auth), JDBC throughput with no agent, the postgres probe, the default probes and
# async-profiler, interleaved; pgbench as another client of the same server; how soon new
# connections are followed. Usage: bench/postgres.sh [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
pg=$out/pg
bin=/usr/lib/postgresql/15/bin
port=${PGBENCH_PORT:-54399}
stop() { runuser -u postgres -- "$bin/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null 2>&1 || true; }
trap stop EXIT
stop
rm -rf "$pg" && mkdir -p "$pg" && chown postgres:postgres "$pg"
runuser -u postgres -- "$bin/initdb" -D "$pg/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w \
  -o "-p $port -k $pg -c listen_addresses=127.0.0.1" start >/dev/null
runuser -u postgres -- "$bin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$port" postgres >/dev/null 2>&1
java -cp bench/target/classes io.jfrebpf.bench.PostgresBench agent/target/jfr-ebpf-agent.jar bench/target/classes \
  bench/target/peer/postgresql.jar "$out" "$port" "${1:-3}" "${2:-5}" "$out/libasyncProfiler.so"
