#!/bin/bash
# Runs shellcheck on the test, benchmark and CI scripts.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v shellcheck >/dev/null || { echo "FAIL: shellcheck is not installed (tests/deps.sh)" >&2; exit 1; }
shopt -s nullglob
shellcheck -x tests/*.sh tests/qemu/*.sh tests/bench/*.sh .ci/run
echo "shellcheck: clean"
