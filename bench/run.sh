#!/usr/bin/env bash
# Benchmarks of the pipe: throughput of a syscall-heavy loop with and without the agent, and the
# host-wide tax of our probes on another process. Usage: bench/run.sh [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
mvn -B -ntp -q package
out=$PWD/out/bench
mkdir -p "$out"
cc -O2 -o "$out/getppid_loop" bench/getppid_loop.c
cc -O2 -o "$out/pingpong" bench/pingpong.c
# the peer, async-profiler: its native library from the jar Maven fetched (bench/pom.xml)
unzip -o -q -j bench/target/peer/async-profiler.jar linux-x64/libasyncProfiler.so -d "$out"
java -cp bench/target/classes:agent/target/jfr-ebpf-agent.jar io.jfrebpf.bench.PipeBench agent/target/jfr-ebpf-agent.jar bench/target/classes \
  "$out/getppid_loop" "$out" "${1:-3}" "${2:-5}" "$out/libasyncProfiler.so"
