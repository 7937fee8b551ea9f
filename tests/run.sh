#!/usr/bin/env bash
# Set up a fresh Debian 12 machine (as root) and run the whole test suite:
# unit tests, CLI tests on loop devices, and every QEMU boot scenario.
# Usage: tests/run.sh [extra ctest arguments, e.g. -R boot.]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${IMGROOT_BUILD:-$top/build}

"$top/tests/deps.sh"
# Second, with clang: the fuzz harnesses and the unit tests under ASan and
# UBSan, which the ctest run below builds (sanitize.build, beside the first
# tests) and counts as fuzz.* and sanitize.* tests (docs/testing.md,
# "Fuzzing and sanitizers").
sanitizer_build=${IMGROOT_SANITIZER_BUILD:-$top/build-fuzz}
# Line tables (-g1) are all a test run needs: file:line in a backtrace or a
# sanitizer's report. Full -g makes the two builds about a quarter slower.
line_tables=-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
cmake -S "$top" -B "$build" -DIMGROOT_WERROR=ON -DIMGROOT_SANITIZER_BUILD="$sanitizer_build" "$line_tables"
cmake --build "$build" -j "$(nproc)"
cmake -S "$top" -B "$sanitizer_build" -DCMAKE_CXX_COMPILER=clang++-19 -DIMGROOT_FUZZ=ON "$line_tables"
cd "$build"
# In parallel: at most one VM per core (the `vm` slots, CMakeLists.txt), and
# the other tests and the fixtures' builds use the cores the VMs leave idle;
# one test more than cores, for sanitize.build to fill them.
ctest --output-on-failure --timeout 600 -j "$(($(nproc) + 1))" "$@"
