#!/usr/bin/env bash
# Builds everything, runs the demo service for ~20 s under the agent, and prints the converter's
# summary of the recording, the findings of JMC's rules (the JDK's and our plugin's) and the
# paths of its flame graphs (CPU, off-CPU) and of the rules report. Output: out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
echo "demo: building (mvn package, with the unit tests)"
mvn -B -ntp -q package
out=$PWD/out/demo
mkdir -p "$out"
rm -f "$out/demo.jfr" "$out/flame.html" "$out/offcpu.html" "$out/report.html"
# The service keeps an audit log in PostgreSQL: a cluster of the demo's own, on loopback.
source scripts/pg-cluster.sh
pg_port=${DEMO_PG_PORT:-54398}
trap 'pg_cluster_stop "$out/pg"' EXIT
echo "demo: starting PostgreSQL 15 (out/demo/pg, 127.0.0.1:$pg_port)"
pg_cluster_start "$out/pg" "$pg_port"
# The default probes plus syscall: the demo shows syscall statistics too. syscall is opt-in in
# production because, while attached, every process on the host pays more per syscall (docs/performance.md).
java --enable-native-access=ALL-UNNAMED \
  "-javaagent:agent/target/jfr-ebpf-agent.jar=file=$out/demo.jfr,probes=cpu+offcpu+file+tcp+postgres+syscall" \
  -Ddemo.seconds="${DEMO_SECONDS:-20}" -Ddemo.jdbc="jdbc:postgresql://127.0.0.1:$pg_port/postgres?user=postgres" \
  -jar demo/target/jfr-ebpf-demo.jar
if [ ! -s "$out/demo.jfr" ]; then
  echo "demo: no recording at $out/demo.jfr (see the [jfr-ebpf] lines above)" >&2
  exit 1
fi
convert="java -jar converter/target/jfr-ebpf-convert.jar"
echo
$convert summary "$out/demo.jfr"
echo
$convert flame "$out/demo.jfr" "$out/flame.html"
$convert flame --event ebpf.OffCPU "$out/demo.jfr" "$out/offcpu.html"
echo
$convert report "$out/demo.jfr" "$out/report.html"
echo
echo "open it: jfr print --events 'ebpf.*' $out/demo.jfr | less   (or JDK Mission Control, with jmc-plugin/target/jfr-ebpf-jmc-plugin.jar in its dropins/)"
