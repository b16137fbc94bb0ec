#!/usr/bin/env bash
# What a CPU sample's stack costs: the CPU probe's BPF run time per stack (kernel.bpf_stats_enabled)
# and the agent's symbolization time per stack, with and without -XX:+PreserveFramePointer, on
# stacks of CpuWorkload's depth and 64 frames deeper, interleaved. A second agent jar (e.g. built
# from a commit with the frame-pointer walk) is measured beside ours when given.
# Usage: bench/stacks.sh [rounds] [seconds] [baseline-agent.jar baseline-label]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/prepare.sh
java -cp bench/target/classes:agent/target/jfr-ebpf-agent.jar io.jfrebpf.bench.StackCostBench agent/target/jfr-ebpf-agent.jar bench/target/classes \
  "$out" "${1:-3}" "${2:-15}" "${@:3}"
