#!/usr/bin/env bash
# The malloc benchmark: ns per malloc+free with no agent, probes=malloc at the default interval and
# at 0, and async-profiler's nativemem mode, interleaved. Usage: bench/malloc.sh [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
java -cp bench/target/classes io.jfrebpf.bench.MallocBench agent/target/jfr-ebpf-agent.jar bench/target/classes \
  "$out" "${1:-3}" "${2:-5}" "$out/libasyncProfiler.so"
