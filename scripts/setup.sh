#!/usr/bin/env bash
# Sourced by demo.sh and test.sh: installs what the build and the tests need, idempotently,
# and selects JDK 25. Needs root (apt-get; the agent loads BPF programs).
set -euo pipefail

JFR_EBPF_PACKAGES=(clang llvm libbpf-dev libelf-dev bpftool bpftrace maven nftables iproute2 postgresql-15 chromium time)

jfr_ebpf_setup() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root (installs packages; the agent loads BPF programs)" >&2
    return 1
  fi
  local missing=()
  for p in "${JFR_EBPF_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi

  local jdk=${JFR_EBPF_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}
  if [ ! -x "$jdk/bin/java" ]; then
    jdk=$(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -n 1 || true)
  fi
  if [ -z "$jdk" ] || [ ! -x "$jdk/bin/java" ]; then
    echo "setup: JDK 25 not found under /usr/lib/jvm (set JFR_EBPF_JDK to its home)" >&2
    return 1
  fi
  export JAVA_HOME=$jdk
  export PATH=$JAVA_HOME/bin:$PATH
}

jfr_ebpf_setup
