#!/usr/bin/env bash
# The TCP benchmark: a request/response loop over loopback (kept-alive connection, and a new
# connection per request) with no agent, probes=tcp, the default probes and async-profiler,
# interleaved; and the tax of the tcp probe on another process's socket sends.
# Usage: bench/tcp.sh [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
cc -O2 -o "$out/sendloop" bench/sendloop.c
java -cp bench/target/classes:agent/target/jfr-ebpf-agent.jar io.jfrebpf.bench.TcpBench agent/target/jfr-ebpf-agent.jar bench/target/classes \
  "$out/sendloop" "$out" "${1:-3}" "${2:-5}" "$out/libasyncProfiler.so"
