#!/usr/bin/env bash
# The CPU profiler benchmark: probes=cpu at 99 Hz against no profiler and against async-profiler
# at the same rate, on the same CPU-bound workload, interleaved. Usage: bench/cpu.sh [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
java -cp bench/target/classes:agent/target/jfr-ebpf-agent.jar io.jfrebpf.bench.CpuBench agent/target/jfr-ebpf-agent.jar bench/target/classes \
  "$out/libasyncProfiler.so" "$out" "${1:-3}" "${2:-10}"
