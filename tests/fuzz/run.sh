#!/usr/bin/env bash
# One fuzz.<harness> test of ctest (tests/fuzz/ctest.cmake): the harness
# runs every seed (the crashers fixed before among them), then fuzzes for a
# bounded number of inputs or seconds, whichever ends first. New inputs go
# to a scratch corpus; a crash is kept in ARTIFACTS for reproduction:
#   HARNESS ARTIFACTS/crash-...
# The timeout per input is generous: on a loaded machine ASan's allocator
# has stalled for 10 s in madvise() on an input that takes milliseconds.
# Usage: tests/fuzz/run.sh HARNESS SEED_CORPUS ARTIFACTS
set -euo pipefail

harness=$1
seeds=$2
artifacts=$3
runs=${IMGROOT_FUZZ_RUNS:-2000000}
seconds=${IMGROOT_FUZZ_SECONDS:-10}

mkdir -p "$artifacts"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/imgroot-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

"$harness" -runs="$runs" -max_total_time="$seconds" -max_len=4096 -timeout=60 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$scratch" "$seeds"
