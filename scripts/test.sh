#!/usr/bin/env bash
# The whole test suite: unit tests, and integration tests that load the real BPF programs
# into the real kernel (as root). A test that cannot load BPF fails; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
mvn -B -ntp verify "$@"
