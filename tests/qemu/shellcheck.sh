#!/bin/bash
# Runs shellcheck on the test, benchmark and CI scripts, and on the
# package's: the help generators, the completion, the maintainer scripts.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v shellcheck >/dev/null || { echo "FAIL: shellcheck is not installed (tests/deps.sh)" >&2; exit 1; }
shopt -s nullglob
shellcheck -x tests/*.sh tests/lint/*.sh tests/qemu/*.sh tests/fuzz/*.sh tests/bench/*.sh tests/package/*.sh .ci/run \
  tools/help/generate.sh tools/help/completion.bash grub/debian/postinst grub/debian/prerm grub/debian/postrm \
  tests/qemu/debian/*.sh tests/qemu/debian/imgroot-test-driver
echo "shellcheck: clean"
