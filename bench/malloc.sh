#!/usr/bin/env bash
# The malloc benchmark: ns per malloc+free with no agent, probes=malloc at the default interval and
# at 0, and async-profiler's nativemem mode, interleaved. Usage: bench/malloc.sh [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
mvn -B -ntp -q package -DskipTests
out=$PWD/out/bench
mkdir -p "$out"
unzip -o -q -j bench/target/peer/async-profiler.jar linux-x64/libasyncProfiler.so -d "$out"
java -cp bench/target/classes io.jfrebpf.bench.MallocBench agent/target/jfr-ebpf-agent.jar bench/target/classes \
  "$out" "${1:-3}" "${2:-5}" "$out/libasyncProfiler.so"
