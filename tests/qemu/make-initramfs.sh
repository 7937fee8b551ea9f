#!/bin/bash
# Build the standalone initramfs the boot tests run, with the project's own
# builder, from the test kernel's modules and the build tree's imgroot-init:
#
#   tests/qemu/make-initramfs.sh [OUTPUT]   (default: $IMGROOT_TEST_SHARED/initramfs.img)
#
# IMGROOT_TOOL and IMGROOT_INIT name the built CLI and init (CTest passes
# them; by hand, build/tools/imgroot and build/init/imgroot-init).
# The initramfs carries busybox, so the rescue path (a shell when nothing
# can be booted) is the one exercised.
set -euo pipefail
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:-$(shared_initramfs)}
tool=${IMGROOT_TOOL:-$REPO_ROOT/build/tools/imgroot}
init=${IMGROOT_INIT:-$REPO_ROOT/build/init/imgroot-init}
# The modules a virtio disk with ext4 on it, a loop-mounted image and the
# overlay modes (imgroot.overlay=) need;
# the builder adds their dependencies.
modules=${IMGROOT_TEST_MODULES:-virtio_pci virtio_blk ext4 loop overlay}

need_commands busybox zstd cpio
load_kernel_env
[[ -x $tool ]] || die "the imgroot CLI $tool is not built (cmake --build build)"
[[ -x $init ]] || die "imgroot-init $init is not built (cmake --build build)"

mkdir -p "$(dirname "$out")"
rm -f "$out.tmp"
"$tool" initramfs --output "$out.tmp" --kernel-release "$KVER" \
  --modules-root "$MODULES_ROOT" --modules "$modules" \
  --busybox "$(command -v busybox)" --init "$init" ||
  die "imgroot initramfs failed"
[[ -s $out.tmp ]] || die "imgroot initramfs wrote no $out.tmp"

# What went in, for the test log; the init and its module list must be there.
listing=$(zstd -dc "$out.tmp" | cpio -it --quiet | sed 's|^\./||') ||
  die "$out.tmp is not a zstd-compressed cpio archive"
printf '%s\n' "$listing"
grep -qx 'init' <<<"$listing" || die "the initramfs has no /init"
grep -qx 'etc/imgroot/modules.load' <<<"$listing" || die "the initramfs has no /etc/imgroot/modules.load"
mv "$out.tmp" "$out"
ls -l "$out"
