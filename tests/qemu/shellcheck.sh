#!/bin/bash
# Runs shellcheck on the boot-test, benchmark and dependency scripts.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v shellcheck >/dev/null || { echo "FAIL: shellcheck is not installed (tests/deps.sh)" >&2; exit 1; }
shopt -s nullglob
shellcheck -x tests/deps.sh tests/qemu/*.sh tests/bench/*.sh
echo "shellcheck: clean"
