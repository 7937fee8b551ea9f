#!/bin/bash
# The test images of the dracut boots: copies of the harness's A, B, C and X
# (tests/qemu/make-images.sh) with an /etc/os-release added:
#
#   tests/qemu/dracut/make-images.sh [OUTDIR]   (default: $IMGROOT_TEST_SHARED/dracut-images)
#
# systemd's switch-root refuses a new root without os-release ("does not
# seem to be an OS tree"); every distribution image has one, the harness's
# busybox images do not. Written with debugfs: nothing is mounted.
set -euo pipefail
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/../lib.sh"

out=${1:-$IMGROOT_TEST_SHARED/dracut-images}
need_commands debugfs
[[ -s $(shared_image A) ]] || die "no test images in $IMGROOT_TEST_SHARED/images (run tests/qemu/make-images.sh)"

mkdir -p "$out"
release=$out/os-release
printf 'NAME="imgroot test image"\nID=imgroot-test\n' >"$release"
for name in A B C X; do
  cp --sparse=always "$(shared_image "$name")" "$out/$name.img.tmp"
  debugfs -w -R "write $release etc/os-release" "$out/$name.img.tmp" >/dev/null 2>&1
  [[ $(debugfs -R 'cat /etc/os-release' "$out/$name.img.tmp" 2>/dev/null) == *imgroot-test* ]] ||
    die "could not add /etc/os-release to image $name"
  mv "$out/$name.img.tmp" "$out/$name.img"
done
rm -f "$release"
ls -l "$out"
