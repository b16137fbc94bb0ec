#!/usr/bin/env bash
# What the agent costs an application, against no agent and async-profiler in the same run:
# an idle JVM (start-up, exit, RSS, CPU, heap, attach time), a service-like loop (CPU overhead,
# as a ratio to async-profiler's) and the exit of a recording of a million events.
# Usage: bench/light.sh [rounds] [service-requests] [storm-opens]; the table goes to out/bench/light.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
java -cp bench/target/classes:agent/target/jfr-ebpf-agent.jar io.jfrebpf.bench.LightBench agent/target/jfr-ebpf-agent.jar bench/target/classes \
  "$out/libasyncProfiler.so" "$out" "${1:-5}" "${2:-60000}" "${3:-1000000}"
# recordings of the runs, kept only until the table is written
rm -f "$out"/no-agent*.jfr "$out"/jfr-ebpf*.jfr "$out"/async-profiler*.jfr
