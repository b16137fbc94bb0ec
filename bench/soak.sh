#!/usr/bin/env bash
# The soak benchmark: a JVM under the agent for a long time at a steady high event rate;
# memory, fds, mappings and threads sampled from outside.
# Usage: bench/soak.sh [minutes] [opens/s] [files|tcp|malloc]  (tcp: connection churn under the default
# probes; malloc: malloc+free under probes=malloc)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
mvn -B -ntp -q package -DskipTests
out=$PWD/out/bench
mode=${3:-files}
java -cp bench/target/classes io.jfrebpf.bench.Soak agent/target/jfr-ebpf-agent.jar bench/target/classes "$out" "${1:-10}" "${2:-20000}" "$mode"
case "$mode" in tcp) echo "written to $out/soak-tcp.md" ;; malloc) echo "written to $out/soak-malloc.md" ;; *) echo "written to $out/soak.md" ;; esac
