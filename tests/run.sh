#!/usr/bin/env bash
# Set up a fresh Debian 12 machine (as root) and run the whole test suite:
# unit tests, CLI tests on loop devices, and every QEMU boot scenario.
# Usage: tests/run.sh [extra ctest arguments, e.g. -R boot.]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${IMGROOT_BUILD:-$top/build}

"$top/tests/deps.sh"
cmake -S "$top" -B "$build" -DIMGROOT_WERROR=ON
cmake --build "$build" -j "$(nproc)"
cd "$build"
# In parallel: the VMs still boot one at a time (RESOURCE_LOCK qemu), and the
# other tests and the fixtures' builds use the cores a TCG VM leaves idle.
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
