#!/usr/bin/env bash
# The demo, on a fresh Debian 12 machine as root: install what is needed,
# build imgroot, and boot a disk image in QEMU through the whole cycle an
# operator goes through:
#
#   1. boot the node: image A is hn-root.img
#   2. imgroot stage B.img   (on the disk's host partition), reboot: B runs
#   3. imgroot revert, reboot: A runs again, B is kept as hn-root-broken.img
#
# Each boot's console lines from imgroot-init and the test image are shown,
# and after each boot the host partition's files. Takes a few minutes
# (QEMU runs under software emulation here).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${IMGROOT_BUILD:-$top/build}
shared=$build/tests/qemu/shared

echo "== installing packages and building"
"$top/tests/deps.sh"
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

echo "== a Debian kernel, the imgroot initramfs and two test images (A, B)"
export IMGROOT_TEST_SHARED=$shared IMGROOT_TOOL=$build/tools/imgroot
"$top/tests/qemu/kernel.sh" --env-out "$shared/kernel.env" >/dev/null
IMGROOT_INIT=$build/init/imgroot-init "$top/tests/qemu/make-initramfs.sh" >/dev/null
"$top/tests/qemu/make-images.sh" >/dev/null

mkdir -p "$build/demo"
cd "$build/demo"
"$top/tests/qemu/boot-test.sh" cli_stage_revert 2>&1 | grep -Ev '^(qemu-system|  \| \[)'
echo "== demo done: boot, stage, reboot into the new image, revert, reboot"
